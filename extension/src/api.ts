// The client of mlnb's server extension (`/mlnb/api/`, see nbs/40_server.ipynb).
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IStep {
  name: string;
  notebook: string | null;
  upstream: string[];
  state: string | null;
  reason?: string | null;
  last_run?: string | null;
}

export interface IPipeline {
  path: string;
  workspace: string;
  name: string;
  steps: IStep[];
  error: string | null;
}

export interface IRunSummary {
  run_id: string;
  pipeline: string | null;
  status: string | null;
  started: string | null;
  ended: string | null;
  progress: { done: number; total: number; current: string[]; counts: Record<string, number> };
  parameters: Record<string, Record<string, unknown>>;
  metrics: Record<string, unknown>;
}

export interface IRunStep {
  status: string;
  notebook?: string;
  notebook_path?: string;
  duration?: number;
  reason?: string;
  error?: string;
}

export interface IRun {
  run_id: string;
  status: string;
  workspace: string;
  steps: Record<string, IRunStep>;
  summary: IRunSummary;
}

export interface IJob {
  job: string;
  pipeline: string;
  workspace: string;
  run_id: string | null;
  running: boolean;
  returncode: number | null;
  status: string;
  run: IRunSummary | null;
  log: string;
}

export interface IInfo {
  version: string;
  root: string;
  voila: boolean;
  voila_url: string;
  voila_template: string | null;
  run_compare: boolean;
}

export interface IStepSite {
  site: string;
  app: string;
  report: string;
  notebook: string;
}

export interface IStartOptions {
  pipeline: string;
  params?: Record<string, unknown>;
  force?: boolean;
  only?: string;
  from_step?: string;
}

/** An error answer of the API, with the server's message. */
export class APIError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

/** Call `/mlnb/api/<endpoint>`; JSON in and out, the server's message on errors. */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  query: Record<string, string> = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const qs = new URLSearchParams(query).toString();
  const url =
    URLExt.join(settings.baseUrl, 'mlnb', 'api', endpoint) + (qs ? `?${qs}` : '');
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) {
    const message = (data && data.message) || response.statusText || String(response.status);
    throw new APIError(response.status, message);
  }
  return data as T;
}

export const api = {
  info: () => requestAPI<IInfo>('info'),
  pipelines: () => requestAPI<{ root: string; pipelines: IPipeline[] }>('pipelines'),
  runs: (workspace: string, limit: number) =>
    requestAPI<{ runs: IRunSummary[] }>('runs', {}, { workspace, limit: String(limit) }),
  run: (workspace: string, runId: string) =>
    requestAPI<IRun>(`runs/${encodeURIComponent(runId)}`, {}, { workspace }),
  jobs: () => requestAPI<{ jobs: IJob[] }>('jobs'),
  job: (id: string) => requestAPI<IJob>(`jobs/${id}`),
  start: (options: IStartOptions) =>
    requestAPI<IJob>('jobs', { method: 'POST', body: JSON.stringify(options) }),
  cancel: (id: string) => requestAPI<IJob>(`jobs/${id}`, { method: 'DELETE' }),
  stepSite: (workspace: string, run: string, step: string) =>
    requestAPI<IStepSite>('apps', { method: 'POST', body: JSON.stringify({ workspace, run, step }) })
};
