// The client of mlnb's server extension (`/mlnb/api/`, see nbs/lab/93_handlers.ipynb).
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import {
  ICompareApp, IInfo, IJobList, IJobState, IPipelineList, IRunDetail, IRunList, IStepSite
} from './api.generated';

// The answers' types are generated from the JSON Schema the server's dataclasses write
// (mlnb/lab/api.schema.json, see nbs/lab/91_api.ipynb): never declare a response type by hand here.
export * from './api.generated';

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
  pipelines: () => requestAPI<IPipelineList>('pipelines'),
  runs: (workspace: string, limit: number) =>
    requestAPI<IRunList>('runs', {}, { workspace, limit: String(limit) }),
  run: (workspace: string, runId: string) =>
    requestAPI<IRunDetail>(`runs/${encodeURIComponent(runId)}`, {}, { workspace }),
  jobs: () => requestAPI<IJobList>('jobs'),
  job: (id: string) => requestAPI<IJobState>(`jobs/${id}`),
  start: (options: IStartOptions) =>
    requestAPI<IJobState>('jobs', { method: 'POST', body: JSON.stringify(options) }),
  cancel: (id: string) => requestAPI<IJobState>(`jobs/${id}`, { method: 'DELETE' }),
  stepSite: (workspace: string, run: string, step: string) =>
    requestAPI<IStepSite>('apps', { method: 'POST', body: JSON.stringify({ workspace, run, step }) }),
  compare: (workspace: string, runs: string[]) =>
    requestAPI<ICompareApp>('compare', { method: 'POST', body: JSON.stringify({ workspace, runs }) })
};
