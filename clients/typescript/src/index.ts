// A REST client for taskq's HTTP API (docs/http-api.md) on the built-in fetch, no dependencies.
//
//   import {TaskqClient} from 'taskq-client';
//   const client = new TaskqClient('http://localhost:8000');
//   const job = await client.enqueue('email', {to: 'user@example.com', subject: 'Hello'});
//   const done = await client.wait(job.id, {queue: job.queue, timeoutMs: 10000});
//
// Every method resolves to the API's JSON answer, or rejects with a TaskqError carrying the HTTP
// status and the API's error code, message and field.

export type JobState =
  | 'waiting'
  | 'delayed'
  | 'active'
  | 'completed'
  | 'retrying'
  | 'dead'
  | 'held';

export interface EnqueueResult {
  id: string;
  queue: string;
  state: JobState | 'unknown';
  created: boolean;
  unique_hit?: boolean;
  links: {self: string; wait: string};
}

// The fields of POST /api/jobs besides type and data.
export interface EnqueueOptions {
  queue?: string;
  job_id?: string;
  priority?: number;
  delay_ms?: number;
  run_at?: string;
  max_attempts?: number;
  backoff?: {type?: 'exponential' | 'fixed' | 'none'; delay_ms?: number; max_delay_ms?: number; jitter?: number};
  timeout_ms?: number;
  group?: string;
  retention?: Record<string, unknown>;
  unique?: true | {key?: string; mode?: 'until_completed' | 'ttl' | 'debounce'; ttl_ms?: number};
}

// A job as GET /api/jobs/{id} shows it (the fields most callers read; the rest are there too).
export interface Job {
  id: string;
  queue: string;
  type: string;
  state: JobState;
  data: Record<string, unknown>;
  attempts: number;
  priority: number;
  result?: unknown;
  options: Record<string, unknown>;
  [field: string]: unknown;
}

export class TaskqError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    // Seconds, when the API said (503: Redis is unavailable, and the request may be sent again).
    readonly retryAfter?: number,
    // invalid_field: every invalid field the API found, the one in `field` first.
    readonly errors: ReadonlyArray<{field: string; detail: string}> = [],
  ) {
    super(`${status} ${code}: ${message}` + (field ? ` (field: ${field})` : ''));
    this.name = 'TaskqError';
  }
}

export interface ClientOptions {
  apiKey?: string;   // a token of --api-key, sent as Authorization: Bearer
  timeoutMs?: number;  // per request (a wait adds its own time); default 30000
}

export class TaskqClient {
  private readonly baseUrl: string;

  constructor(baseUrl = 'http://localhost:8000', private readonly options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  enqueue(type: string, data: Record<string, unknown> = {},
          options: EnqueueOptions & {idempotencyKey?: string; traceparent?: string} = {}): Promise<EnqueueResult> {
    const {idempotencyKey, traceparent, ...fields} = options;
    const headers: Record<string, string> = {};
    if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
    if (traceparent !== undefined) headers['traceparent'] = traceparent;
    return this.request('POST', '/api/jobs', {type, data, ...fields}, headers);
  }

  async enqueueBulk(jobs: Array<{type: string; data?: Record<string, unknown>} & EnqueueOptions>,
                    traceparent?: string): Promise<EnqueueResult[]> {
    const headers: Record<string, string> = traceparent ? {traceparent} : {};
    const answer = await this.request<{jobs: EnqueueResult[]}>('POST', '/api/jobs/bulk', {jobs}, headers);
    return answer.jobs;
  }

  getJob(id: string, queue?: string): Promise<Job> {
    return this.request('GET', jobPath(id, '', {queue}));
  }

  // Resolves when the job is completed or dead, or when timeoutMs passes, to the job as it is then
  // (check its state).
  wait(id: string, {queue, timeoutMs = 30000}: {queue?: string; timeoutMs?: number} = {}): Promise<Job> {
    return this.request('GET', jobPath(id, '/wait', {queue, timeout_ms: String(timeoutMs)}),
                        undefined, {}, timeoutMs);
  }

  cancel(id: string, queue?: string): Promise<Record<string, unknown>> {
    return this.request('DELETE', jobPath(id, '', {queue}));
  }

  retry(id: string, queue?: string): Promise<Record<string, unknown>> {
    return this.request('POST', jobPath(id, '/retry', {queue}));
  }

  promote(id: string, queue?: string): Promise<Record<string, unknown>> {
    return this.request('POST', jobPath(id, '/promote', {queue}));
  }

  async queues(): Promise<Array<Record<string, unknown> & {name: string}>> {
    return (await this.request<{queues: Array<Record<string, unknown> & {name: string}>}>('GET', '/api/queues')).queues;
  }

  pause(queue: string): Promise<{queue: string; paused: boolean}> {
    return this.request('POST', `/api/queues/${encodeURIComponent(queue)}/pause`);
  }

  resume(queue: string): Promise<{queue: string; paused: boolean}> {
    return this.request('POST', `/api/queues/${encodeURIComponent(queue)}/resume`);
  }

  private async request<T>(method: string, path: string, body?: unknown,
                           headers: Record<string, string> = {}, extraMs = 0): Promise<T> {
    const all: Record<string, string> = {...headers};
    if (body !== undefined) all['Content-Type'] = 'application/json';
    if (this.options.apiKey) all['Authorization'] = `Bearer ${this.options.apiKey}`;
    const answer = await fetch(this.baseUrl + path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout((this.options.timeoutMs ?? 30000) + extraMs),
    });
    const text = await answer.text();
    if (!answer.ok) {
      // RFC 9457 problem details (application/problem+json) with taskq's code, field and errors.
      let error: {code?: string; detail?: string; field?: string;
                  errors?: Array<{field: string; detail: string}>} = {};
      try {
        const parsed = JSON.parse(text);
        error = parsed && typeof parsed === 'object' ? parsed : {};
      } catch {
        error = {code: 'http_error', detail: text.slice(0, 500)};
      }
      const retryAfter = Number(answer.headers.get('Retry-After'));
      throw new TaskqError(answer.status, error.code ?? 'http_error', error.detail ?? '',
                           error.field, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
                           Array.isArray(error.errors) ? error.errors : []);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

function jobPath(id: string, suffix: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, value);
  const search = params.toString();
  return `/api/jobs/${encodeURIComponent(id)}${suffix}` + (search ? `?${search}` : '');
}
