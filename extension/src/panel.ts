// The mlnb sidebar: pipelines with their steps' states, a Run button with live progress, recent runs.
import { showErrorMessage } from '@jupyterlab/apputils';
import { LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { api, IJobState, IPipelineInfo, IRunDetail, IRunStep, IRunSummary } from './api';

export const PANEL_ID = 'mlnb-sidebar';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
  '<circle cx="5" cy="6" r="2.5"/><circle cx="5" cy="18" r="2.5"/><circle cx="19" cy="12" r="2.5"/>' +
  '<path d="M7 6.5h4.5l4.7 4.6-.9.9-4.2-4H7zM7 17.5h4.5l4.7-4.6-.9-.9-4.2 4H7z"/></g></svg>';

export const mlnbIcon = new LabIcon({ name: 'mlnb:pipelines', svgstr: ICON_SVG });

/** Settings the panel reads (schema/plugin.json). */
export interface IPanelConfig {
  pollInterval: number;
  refreshInterval: number;
  maxRuns: number;
  maxMetrics: number;
}

/** What the panel asks the plugin to do (the plugin routes these through commands). */
export interface IPanelActions {
  openStep(workspace: string, run: string, step: string, as: 'notebook' | 'app'): void;
  openPath(path: string): void;
  compare(workspace: string, runIds: string[]): void;
}

type Attrs = Record<string, string | boolean | undefined | ((e: Event) => void)>;

/** A DOM element with attributes, listeners (`on*`) and children; text is never parsed as HTML. */
function h(tag: string, attrs: Attrs = {}, ...children: (Node | string | null | undefined)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'className') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(3);
  return String(v);
}

function ago(iso: string | null): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (isNaN(t)) return iso;
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 60) return `${Math.round(s)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return new Date(t).toLocaleDateString();
}

/** A run step's tooltip: a failed step's error message, else why it was cached or skipped. */
export function stepTooltip(s: IRunStep): string {
  return s.error ? s.error.message : s.reason || '';
}

/**
 * A run id as a person scans a list: `20261129-114512-ab12` reads "11:45:12" today and "Nov 29 11:45:12" on another
 * day; `withSuffix` adds the random part ("11:45:12 ab12") to tell apart runs started in the same second. The full id
 * stays in the tooltip and in `data-run-id`; ids of another shape are shown as they are.
 */
export function runLabel(runId: string, withSuffix = false, now: Date = new Date()): string {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\w+))?$/.exec(runId);
  if (!m) return runId;
  const [, y, mo, d, h, mi, s, suffix] = m;
  const when = new Date(Number(y), Number(mo) - 1, Number(d));
  const today = when.toDateString() === now.toDateString();
  const day = today ? '' : when.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ';
  return `${day}${h}:${mi}:${s}` + (withSuffix && suffix ? ` ${suffix}` : '');
}

/** A path under the server root: `workspace` ('.' for the root) joined with a workspace-relative path. */
function inWorkspace(workspace: string, path: string): string {
  return workspace === '.' || !workspace ? path : `${workspace}/${path}`;
}

function slug(s: string): string {
  return s.replace(/[^a-zA-Z0-9_-]+/g, '-');
}

export class MlnbPanel extends Widget {
  config: IPanelConfig = { pollInterval: 1000, refreshInterval: 15000, maxRuns: 8, maxMetrics: 3 };
  private pipelines: IPipelineInfo[] = [];
  private runs = new Map<string, IRunSummary[]>();
  private jobs = new Map<string, IJobState>(); // pipeline path -> latest job started here
  private details = new Map<string, IRunDetail>(); // `${workspace}|${run_id}` -> full run
  private selected = new Set<string>(); // `${workspace}|${run_id}`
  private force = new Set<string>();
  private error = '';
  private loading = false;
  private pollTimer: number | null = null;
  private refreshTimer: number | null = null;

  constructor(private actions: IPanelActions) {
    super();
    this.id = PANEL_ID;
    this.addClass('mlnb-Panel');
    this.title.icon = mlnbIcon;
    this.title.caption = 'mlnb pipelines and runs';
  }

  /** Pipelines that have been loaded, for commands run from the palette. */
  get pipelinePaths(): string[] {
    return this.pipelines.map(p => p.path);
  }

  /** The selected runs, grouped by workspace. */
  get selection(): { workspace: string; runs: string[] } | null {
    const keys = [...this.selected];
    if (!keys.length) return null;
    const workspace = keys[0].split('|')[0];
    return { workspace, runs: keys.filter(k => k.startsWith(workspace + '|')).map(k => k.split('|')[1]) };
  }

  applyConfig(config: Partial<IPanelConfig>): void {
    this.config = { ...this.config, ...config };
    if (this.refreshTimer !== null) window.clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    if (this.config.refreshInterval > 0) {
      this.refreshTimer = window.setInterval(() => {
        if (this.isVisible && !this.anyRunning()) void this.refresh();
      }, this.config.refreshInterval);
    }
  }

  dispose(): void {
    if (this.refreshTimer !== null) window.clearInterval(this.refreshTimer);
    if (this.pollTimer !== null) window.clearTimeout(this.pollTimer);
    super.dispose();
  }

  /** Reload pipelines, runs and the jobs this server is running. */
  async refresh(): Promise<void> {
    this.loading = true;
    this.render();
    try {
      const [{ pipelines }, { jobs }] = await Promise.all([api.pipelines(), api.jobs()]);
      this.pipelines = pipelines;
      for (const j of jobs.reverse()) this.jobs.set(j.pipeline, j); // newest last wins
      const workspaces = [...new Set(pipelines.map(p => p.workspace))];
      const lists = await Promise.all(workspaces.map(w => api.runs(w, this.config.maxRuns)));
      this.runs = new Map(workspaces.map((w, i) => [w, lists[i].runs]));
      this.error = '';
    } catch (e) {
      this.error = `Could not load pipelines: ${(e as Error).message}`;
    }
    this.loading = false;
    this.render();
    if (this.anyRunning()) this.schedulePoll();
  }

  /** Start a run of `pipeline` in the background and follow its progress. */
  async run(pipeline: string, force?: boolean): Promise<IJobState | null> {
    try {
      const job = await api.start({ pipeline, force: force ?? this.force.has(pipeline) });
      this.jobs.set(pipeline, job);
      this.render();
      this.schedulePoll();
      return job;
    } catch (e) {
      void showErrorMessage('mlnb: could not start the run', (e as Error).message);
      return null;
    }
  }

  async cancel(pipeline: string): Promise<void> {
    const job = this.jobs.get(pipeline);
    if (job && job.running) this.jobs.set(pipeline, await api.cancel(job.job));
    this.render();
  }

  private anyRunning(): boolean {
    return [...this.jobs.values()].some(j => j.running);
  }

  private schedulePoll(): void {
    if (this.pollTimer !== null) return;
    this.pollTimer = window.setTimeout(() => void this.poll(), this.config.pollInterval);
  }

  private async poll(): Promise<void> {
    this.pollTimer = null;
    let finished = false; // reload pipelines and runs after this poll
    for (const [path, job] of this.jobs) {
      if (!job.running) continue;
      try {
        const next = await api.job(job.job);
        this.jobs.set(path, next);
        if (!next.running || (next.run_id && !job.run_id)) finished = true; // ended, or its run just appeared
      } catch (e) {
        this.jobs.set(path, { ...job, running: false, status: 'unknown', log: (e as Error).message });
        finished = true;
      }
    }
    if (finished) await this.refresh();
    else this.render();
    if (this.anyRunning()) this.schedulePoll();
  }

  private async toggleRun(workspace: string, runId: string): Promise<void> {
    const key = `${workspace}|${runId}`;
    if (this.details.has(key)) this.details.delete(key);
    else {
      try {
        this.details.set(key, await api.run(workspace, runId));
      } catch (e) {
        void showErrorMessage('mlnb: could not load the run', (e as Error).message);
      }
    }
    this.render();
  }

  protected onAfterAttach(): void {
    void this.refresh();
  }

  render(): void {
    const body = h(
      'div',
      { className: 'mlnb-Panel-body' },
      h(
        'div',
        { className: 'mlnb-Panel-header' },
        h('span', { className: 'mlnb-Panel-title' }, 'mlnb pipelines'),
        h(
          'button',
          { className: 'mlnb-icon-button mlnb-refresh', title: 'Refresh', onclick: () => void this.refresh() },
          refreshIcon.element({ tag: 'span' })
        )
      ),
      this.error ? h('div', { className: 'mlnb-error' }, this.error) : null,
      !this.pipelines.length
        ? h(
            'div',
            { className: 'mlnb-empty' },
            this.loading ? 'Looking for pipelines…' : 'No pipeline.yaml under this folder.'
          )
        : null,
      ...this.pipelines.map(p => this.renderPipeline(p))
    );
    this.node.replaceChildren(body);
    this.updateCompareButtons();
  }

  private renderPipeline(p: IPipelineInfo): HTMLElement {
    const job = this.jobs.get(p.path);
    const live: Record<string, string> = job && job.run ? job.run.steps : {};
    const running = !!job && job.running;
    const steps = p.steps.map(s => {
      const state = running && live[s.name] ? live[s.name] : s.state || 'unknown';
      const notebook = s.notebook;
      return h(
        'li',
        {
          className: `mlnb-step mlnb-state-${slug(state)}` + (notebook ? ' mlnb-clickable' : ''),
          'data-step': s.name,
          title: [notebook ? `Open ${notebook}` : null, s.reason].filter(Boolean).join(' — '),
          onclick: notebook ? () => this.actions.openPath(inWorkspace(p.workspace, notebook)) : undefined
        },
        h('span', { className: 'mlnb-dot' }),
        h('span', { className: 'mlnb-step-name' }, s.name),
        h('span', { className: 'mlnb-step-state' }, state)
      );
    });
    const runButton = running
      ? h('button', { className: 'mlnb-button mlnb-stop-button', onclick: () => void this.cancel(p.path) }, 'Stop')
      : h(
          'button',
          {
            className: 'mlnb-button mlnb-run-button jp-mod-accept',
            disabled: !!p.error,
            onclick: () => void this.run(p.path)
          },
          '▶ Run'
        );
    const force = h('input', {
      type: 'checkbox',
      className: 'mlnb-force',
      checked: this.force.has(p.path),
      onchange: (e: Event) => {
        if ((e.target as HTMLInputElement).checked) this.force.add(p.path);
        else this.force.delete(p.path);
      }
    });
    return h(
      'section',
      { className: 'mlnb-pipeline', 'data-path': p.path },
      h(
        'div',
        { className: 'mlnb-pipeline-header' },
        h('span', { className: 'mlnb-pipeline-name', title: p.path }, p.name || p.path),
        h('label', { className: 'mlnb-force-label', title: 'Re-run steps even when cached' }, force, 'force'),
        runButton
      ),
      h('div', { className: 'mlnb-pipeline-path' }, p.path),
      p.error ? h('div', { className: 'mlnb-error' }, p.error) : null,
      h('ul', { className: 'mlnb-steps' }, ...steps),
      job ? this.renderJob(job) : null,
      this.renderRuns(p.workspace)
    );
  }

  private renderJob(job: IJobState): HTMLElement {
    const pr = job.run ? job.run.progress : { done: 0, total: 0, current: [] as string[] };
    const pct = pr.total ? Math.round((100 * pr.done) / pr.total) : 0;
    const label = job.running
      ? `${job.run_id ? runLabel(job.run_id) : 'starting'}: ${pr.done}/${pr.total} steps` +
        (pr.current.length ? ` — running ${pr.current.join(', ')}` : '')
      : `${job.run_id ? runLabel(job.run_id) : 'run'} ${job.status}`;
    return h(
      'div',
      {
        className: `mlnb-progress mlnb-status-${slug(job.status)}`,
        'data-job': job.job,
        'data-run-id': job.run_id || undefined,
        title: job.run_id ? `Run ${job.run_id}` : undefined
      },
      h('div', { className: 'mlnb-progress-bar' }, h('div', { className: 'mlnb-progress-fill', style: `width:${pct}%` })),
      h('div', { className: 'mlnb-progress-label' }, label),
      !job.running && job.status === 'failed' && job.log
        ? h('pre', { className: 'mlnb-log' }, job.log.split('\n').slice(-8).join('\n'))
        : null
    );
  }

  /** Label and enable each workspace's Compare button from the selection (without re-rendering the list). */
  private updateCompareButtons(): void {
    const sel = this.selection;
    this.node.querySelectorAll<HTMLButtonElement>('.mlnb-compare-button').forEach(b => {
      const n = sel && sel.workspace === b.dataset.workspace ? sel.runs.length : 0;
      b.disabled = n < 1;
      b.textContent = n ? `Compare (${n})` : 'Compare';
    });
  }

  private renderRuns(workspace: string): HTMLElement {
    const runs = this.runs.get(workspace) || [];
    const short = runs.map(r => runLabel(r.run_id));
    const labels = new Map(runs.map((r, i) => [
      r.run_id, short.indexOf(short[i]) === short.lastIndexOf(short[i]) ? short[i] : runLabel(r.run_id, true)
    ]));
    return h(
      'div',
      { className: 'mlnb-runs' },
      h(
        'div',
        { className: 'mlnb-runs-header' },
        h('span', {}, 'Recent runs'),
        h(
          'button',
          {
            className: 'mlnb-button mlnb-compare-button',
            'data-workspace': workspace,
            title: 'Compare the selected runs (RunCompare)',
            onclick: () => {
              const sel = this.selection;
              if (sel && sel.workspace === workspace) this.actions.compare(workspace, sel.runs);
            }
          },
          'Compare'
        )
      ),
      runs.length ? null : h('div', { className: 'mlnb-empty' }, 'No runs yet.'),
      h('ul', { className: 'mlnb-run-list' }, ...runs.map(r => this.renderRun(workspace, r, labels.get(r.run_id) || r.run_id)))
    );
  }

  private renderRun(workspace: string, r: IRunSummary, label: string): HTMLElement {
    const key = `${workspace}|${r.run_id}`;
    const metrics = Object.entries(r.metrics)
      .filter(([, v]) => typeof v === 'number')
      .slice(0, this.config.maxMetrics)
      .map(([k, v]) => h('span', { className: 'mlnb-metric', title: k }, `${k.split('.').pop()}=${fmt(v)}`));
    const detail = this.details.get(key);
    const box = h('input', {
      type: 'checkbox',
      className: 'mlnb-run-select',
      checked: this.selected.has(key),
      onchange: (e: Event) => {
        if ((e.target as HTMLInputElement).checked) this.selected.add(key);
        else this.selected.delete(key);
        this.updateCompareButtons();
      }
    });
    return h(
      'li',
      { className: `mlnb-run mlnb-status-${slug(r.status || 'unknown')}`, 'data-run-id': r.run_id },
      h(
        'div',
        { className: 'mlnb-run-row' },
        box,
        h(
          'span',
          {
            className: 'mlnb-run-id',
            title: `Run ${r.run_id}: show its steps`,
            onclick: () => void this.toggleRun(workspace, r.run_id)
          },
          label
        ),
        h('span', { className: 'mlnb-run-status' }, r.status || '?'),
        h('span', { className: 'mlnb-run-time' }, ago(r.started))
      ),
      metrics.length ? h('div', { className: 'mlnb-metrics' }, ...metrics) : null,
      detail ? this.renderRunSteps(detail) : null
    );
  }

  private renderRunSteps(run: IRunDetail): HTMLElement {
    const rows = Object.entries(run.steps).map(([name, s]) =>
      h(
        'li',
        { className: `mlnb-run-step mlnb-state-${slug(s.status)}`, 'data-step': name, title: stepTooltip(s) },
        h('span', { className: 'mlnb-dot' }),
        s.notebook_path
          ? h(
              'span',
              {
                className: 'mlnb-step-name mlnb-clickable',
                title: `Open the executed notebook of ${name} (a copy from the run's published site)`,
                onclick: () => this.actions.openStep(run.workspace, run.run_id, name, 'notebook')
              },
              name
            )
          : h('span', { className: 'mlnb-step-name' }, name),
        h('span', { className: 'mlnb-step-state' }, s.status + (s.duration ? ` ${fmt(s.duration)}s` : '')),
        s.notebook_path
          ? h(
              'button',
              {
                className: 'mlnb-link mlnb-open-notebook',
                title: `Open a copy of ${s.notebook_path} (from the run's published site)`,
                onclick: () => this.actions.openStep(run.workspace, run.run_id, name, 'notebook')
              },
              'notebook'
            )
          : null,
        s.notebook_path
          ? h(
              'button',
              {
                className: 'mlnb-link mlnb-open-voila',
                title: `Open step ${name} as a Voila app`,
                onclick: () => this.actions.openStep(run.workspace, run.run_id, name, 'app')
              },
              'app'
            )
          : null
      )
    );
    return h('ul', { className: 'mlnb-run-steps' }, ...rows);
  }
}
