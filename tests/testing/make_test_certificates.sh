#!/bin/sh
# Certificates for TLS tests and benchmarks, made with the openssl command in DIR:
#   ca.pem/ca.key          a CA
#   other-ca.pem           a second CA that signed nothing here (a server checked against it
#                          is refused)
#   server.pem/server.key  signed by ca, for 127.0.0.1 and localhost
#   client.pem/client.key  signed by ca, for client authentication
# Usage: make_test_certificates.sh DIR   (openssl's output goes to DIR/openssl.log)
set -eu
dir=$1
mkdir -p "$dir"
exec 3>>"$dir/openssl.log"
key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

self_signed() {  # NAME SUBJECT
  openssl req -x509 $key -keyout "$dir/$1.key" -subj "/CN=$2" -days 3 -out "$dir/$1.pem" >&3 2>&1
}
signed() {  # NAME SUBJECT EXTENSIONS
  printf '%b\n' "$3" >"$dir/$1.ext"
  openssl req $key -keyout "$dir/$1.key" -subj "/CN=$2" -out "$dir/$1.csr" >&3 2>&1
  openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 3 -extfile "$dir/$1.ext" -out "$dir/$1.pem" >&3 2>&1
}

self_signed ca taskq-test-ca
self_signed other-ca taskq-other-ca
signed server localhost 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
signed client taskq-client 'extendedKeyUsage=clientAuth'
