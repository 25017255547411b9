-- wrk script for W6 (bench/README.md): POST /api/jobs with the README's quick-start body,
-- and a machine-readable summary line at the end.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"type": "email", "data": {"to": "user@example.com", "subject": "Hello"}}'

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
      'W6RESULT {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
      '"p50_us":%d,"p99_us":%d}\n',
      summary.requests, summary.duration, non2xx,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      latency:percentile(50), latency:percentile(99)))
end
