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

// Flows (docs/workflows.md): a tree of jobs, in one queue or several, whose parents run once
// their children have settled.
export type FlowState = 'running' | 'completed' | 'dead';
// What a job's death does to its parent.
export type ChildFailurePolicy = 'fail' | 'ignore' | 'continue';

// A job of POST /api/jobs as a flow takes it: a flow names its jobs itself, so no job_id or unique.
export type FlowJobBody = {type: string; data?: Record<string, unknown>} & Omit<EnqueueOptions, 'job_id' | 'unique'>;

// One job of a flow with its place in the tree: `parent` is the parent's ref, left out for the root.
export type FlowJob = FlowJobBody & {ref: string; parent?: string; on_failure?: ChildFailurePolicy};

// The body of POST /api/flows: the jobs as a tree, or a chain of steps that run one after the
// other (refs step1, step2, ...; each step reads the result of the one before). `flow_id` names
// the flow within its queue (else the Idempotency-Key, else a generated id).
// retention_ms: how long the flow's record outlives its root's finish (default 7 days).
export type FlowRequest = {flow_id?: string; retention_ms?: number} &
  ({jobs: FlowJob[]} | {chain: FlowJobBody[]});

export interface FlowSubmitResult {
  id: string;  // "<queue>:<flow key>"
  queue: string | null;
  state: FlowState | null;
  created: boolean;  // false: the flow key existed in the queue, and nothing was written
  // In the request's order; each job's id is "<flow key>.<ref>".
  jobs: Array<{ref: string; id: string; queue: string; state: JobState | null; links: {job: string}}>;
  links: {self: string};
}

// What a parent's children have done so far.
export interface FlowJoin {
  state: 'waiting' | 'released' | 'failed' | 'cancelled';
  total: number;
  pending: number;
  completed: number;
  dead: number;  // of every policy
  overridden: boolean;  // retried from dead: its children's deaths no longer fail it
}

export interface FlowNode {
  ref: string;
  id: string;
  parent: string | null;  // null for the root
  on_failure: ChildFailurePolicy;
  state: JobState | null;  // null once the job was removed or deleted by its retention
  cancelled: boolean;
  children?: FlowJoin;  // parents only
  links: {job: string};
}

// A flow as GET /api/flows/{id} shows it.
export interface Flow {
  id: string;
  queue: string;
  state: FlowState;
  created_ms: number;
  finished_ms: number | null;
  jobs: FlowNode[];  // by ref
  links: {self: string};
}

// Batches (docs/workflows.md, "Batches"): independent jobs in one queue, its members, with
// callbacks that run once they have settled.
export type BatchState = 'open' | 'running' | 'finished';

// A member or callback of a batch: a batch names its jobs itself, so, as in a flow, no job_id or
// unique.
export type BatchJobBody = FlowJobBody;

// The body of POST /api/batches, every job in one queue. `batch_id` names the batch within its
// queue (else the Idempotency-Key, else a generated id). `on_complete` runs once every member
// completed or died, `on_success` once every member completed. `open`: the batch takes additions
// and holds its callbacks until it is closed; only an open batch may have no jobs, and it then
// needs a callback. `retention_ms`: how long its record outlives its finish (default 7 days).
export interface BatchRequest {
  batch_id?: string;
  jobs: BatchJobBody[];
  on_complete?: BatchJobBody;
  on_success?: BatchJobBody;
  open?: boolean;
  retention_ms?: number;
}

export interface BatchSubmitResult {
  id: string;  // "<queue>:<batch key>"
  queue: string;
  state: BatchState | null;  // null when the read after the submission failed
  created: boolean;  // false: the batch key existed in the queue, and nothing was written
  // In the request's order; each member's id is "<batch key>.<i>".
  jobs: Array<{id: string}>;
  on_complete: {id: string} | null;
  on_success: {id: string} | null;
  links: {self: string};
}

// The body of POST /api/batches/{id}/jobs: `addition_id` names the addition within the batch
// (else the Idempotency-Key, else a generated id).
export interface BatchAddition {
  addition_id?: string;
  jobs: BatchJobBody[];
}

export interface BatchAdditionResult {
  id: string;
  addition_id: string;
  created: boolean;  // false: this addition id was added before, and nothing was written
  jobs: Array<{id: string}>;  // "<batch key>.<addition id>-<i>"
  links: {self: string};
}

export interface BatchCallback {
  id: string;
  state: JobState | null;  // 'held' until released; null once removed or deleted by its retention
  cancelled: boolean;  // dead without running: the batch was cancelled or, for on_success, a member died
}

// A batch as GET /api/batches/{id} shows it; the counts are over every addition.
export interface Batch {
  id: string;
  queue: string;
  state: BatchState;
  cancelled: boolean;
  total: number;
  pending: number;
  completed: number;
  dead: number;
  created_ms: number;
  finished_ms: number | null;
  on_complete: BatchCallback | null;
  on_success: BatchCallback | null;
  links: {self: string};
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
    return this.request('POST', '/api/jobs', {type, data, ...fields}, submitHeaders({idempotencyKey, traceparent}));
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

  submitFlow(flow: FlowRequest, options: {idempotencyKey?: string; traceparent?: string} = {}): Promise<FlowSubmitResult> {
    return this.request('POST', '/api/flows', flow, submitHeaders(options));
  }

  // Rejects with a 404 TaskqError when there is no such flow (or its record expired).
  getFlow(id: string): Promise<Flow> {
    return this.request('GET', `/api/flows/${encodeURIComponent(id)}`);
  }

  // Cancels the flow's root and every unfinished job below it; "stop_requested" while the root
  // runs. Rejects with a 409 TaskqError once the root has finished.
  cancelFlow(id: string): Promise<{id: string; outcome: 'cancelled' | 'stop_requested'}> {
    return this.request('DELETE', `/api/flows/${encodeURIComponent(id)}`);
  }

  submitBatch(batch: BatchRequest, options: {idempotencyKey?: string; traceparent?: string} = {}): Promise<BatchSubmitResult> {
    return this.request('POST', '/api/batches', batch, submitHeaders(options));
  }

  // Rejects with a 404 TaskqError when there is no such batch, and a 409 one (batch_finished)
  // once it finished or was cancelled.
  addToBatch(id: string, addition: BatchAddition,
             options: {idempotencyKey?: string; traceparent?: string} = {}): Promise<BatchAdditionResult> {
    return this.request('POST', `${batchPath(id)}/jobs`, addition, submitHeaders(options));
  }

  // "already_closed" when it was closed before. Rejects with a 404 TaskqError when there is no
  // such batch.
  closeBatch(id: string): Promise<{id: string; outcome: 'closed' | 'already_closed'}> {
    return this.request('POST', `${batchPath(id)}/close`);
  }

  // Rejects with a 404 TaskqError when there is no such batch (or its record expired).
  getBatch(id: string): Promise<Batch> {
    return this.request('GET', batchPath(id));
  }

  // Every unfinished member and the held callbacks go dead, cancelled (a running member is asked
  // to stop). Rejects with a 409 TaskqError (batch_finished) once it finished or was cancelled.
  cancelBatch(id: string): Promise<{id: string; outcome: 'cancelled'}> {
    return this.request('DELETE', batchPath(id));
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

// The optional headers of a submission: its Idempotency-Key and W3C traceparent.
function submitHeaders({idempotencyKey, traceparent}: {idempotencyKey?: string; traceparent?: string}): Record<string, string> {
  const headers: Record<string, string> = {};
  if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
  if (traceparent !== undefined) headers['traceparent'] = traceparent;
  return headers;
}

function jobPath(id: string, suffix: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, value);
  const search = params.toString();
  return `/api/jobs/${encodeURIComponent(id)}${suffix}` + (search ? `?${search}` : '');
}

function batchPath(id: string): string {
  return `/api/batches/${encodeURIComponent(id)}`;
}
