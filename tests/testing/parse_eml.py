#!/usr/bin/python3
"""Parses an RFC 5322 / MIME message with Python's email package (an independent implementation)
and prints what a mail client would see, as JSON:
  {"headers": {"Subject": "decoded", ...},          every header, decoded, repeated ones joined
   "header_names": ["From", ...],                  in order, as written
   "defects": ["..."],                             every defect Python found, in any part
   "parts": [{"content_type": "text/plain", "filename": null, "charset": "utf-8",
              "payload_hex": "..."}]}              leaf parts in order, bodies decoded
Usage: parse_eml.py FILE
"""
import email
import email.policy
import json
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    defects = [repr(d) for d in message.defects]
    headers = {}
    for name, value in message.items():
        defects += [repr(d) for d in getattr(value, "defects", ())]
        headers[name] = headers[name] + ", " + str(value) if name in headers else str(value)
    parts = []
    for part in message.walk():
        defects += [repr(d) for d in part.defects]
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "filename": part.get_filename(),
            "charset": part.get_content_charset(),
            "payload_hex": part.get_payload(decode=True).hex(),
        })
    json.dump({"headers": headers, "header_names": list(message.keys()), "defects": defects,
               "parts": parts}, sys.stdout)


if __name__ == "__main__":
    main()
