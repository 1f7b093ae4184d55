// mlnb in JupyterLab: the pipelines sidebar, its commands, and Voila previews in lab tabs.
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, showErrorMessage } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IFrame } from '@jupyterlab/ui-components';
import { api } from './api';
import { IPanelConfig, MlnbPanel, mlnbIcon } from './panel';

/** The commands mlnb adds (all in the palette, category "mlnb"). */
export namespace CommandIDs {
  export const openSidebar = 'mlnb:open-sidebar';
  export const refresh = 'mlnb:refresh';
  export const runPipeline = 'mlnb:run-pipeline';
  export const stopRun = 'mlnb:stop-run';
  export const openNotebook = 'mlnb:open-step-notebook';
  export const openStepApp = 'mlnb:open-step-app';
  export const openVoila = 'mlnb:open-voila';
  export const compareRuns = 'mlnb:compare-runs';
}

const PLUGIN_ID = 'mlnb:plugin';

/** The path of the notebook in the current main-area tab, if any. */
function currentPath(app: JupyterFrontEnd): string | undefined {
  const w: any = app.shell.currentWidget;
  return w && w.context && typeof w.context.path === 'string' ? w.context.path : undefined;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'mlnb pipelines, runs and Voila previews in the left sidebar',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settings: ISettingRegistry | null
  ) => {
    if (app.name === 'Voila') return; // Voila pages load every lab extension; the sidebar belongs to JupyterLab
    const { commands, shell } = app;
    const panel = new MlnbPanel({
      openStep: (workspace, run, step, as) =>
        void commands.execute(as === 'app' ? CommandIDs.openStepApp : CommandIDs.openNotebook, { workspace, run, step }),
      openPath: path => void commands.execute('docmanager:open', { path }),
      compare: (workspace, runs) => void commands.execute(CommandIDs.compareRuns, { workspace, runs })
    });
    shell.add(panel, 'left', { rank: 600 });
    if (restorer) restorer.add(panel, 'mlnb-sidebar');

    if (settings) {
      void settings.load(PLUGIN_ID).then(s => {
        const apply = () => panel.applyConfig(s.composite as unknown as Partial<IPanelConfig>);
        apply();
        s.changed.connect(apply);
      }).catch(e => console.warn('mlnb: settings not loaded', e));
    } else panel.applyConfig({});

    commands.addCommand(CommandIDs.openSidebar, {
      label: 'Show mlnb Pipelines',
      icon: mlnbIcon,
      execute: () => shell.activateById(panel.id)
    });

    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh mlnb Pipelines and Runs',
      execute: () => panel.refresh()
    });

    commands.addCommand(CommandIDs.runPipeline, {
      label: args => (args.force ? 'Run mlnb Pipeline (force)' : 'Run mlnb Pipeline'),
      caption: 'Run a pipeline.yaml in the background (the first one when none is given)',
      isEnabled: args => !!args.pipeline || panel.pipelinePaths.length > 0,
      execute: async args => {
        const pipeline = (args.pipeline as string) || panel.pipelinePaths[0];
        shell.activateById(panel.id);
        return panel.run(pipeline, args.force === undefined ? undefined : !!args.force);
      }
    });

    commands.addCommand(CommandIDs.stopRun, {
      label: 'Stop mlnb Pipeline Run',
      isEnabled: args => !!args.pipeline || panel.pipelinePaths.length > 0,
      execute: args => panel.cancel((args.pipeline as string) || panel.pipelinePaths[0])
    });

    /** The published files of a run's step (the server publishes the run on first use). */
    const stepSite = async (args: any) => {
      try {
        return await api.stepSite(args.workspace as string, args.run as string, args.step as string);
      } catch (e) {
        void showErrorMessage('mlnb: could not open the step', (e as Error).message);
        return null;
      }
    };
    const isStep = (args: any) => ['workspace', 'run', 'step'].every(k => typeof args[k] === 'string');

    commands.addCommand(CommandIDs.openNotebook, {
      label: 'Open Executed Step Notebook',
      caption: "A copy of a run's executed step notebook (the original is part of the cache)",
      isEnabled: args => typeof args.path === 'string' || isStep(args),
      execute: async args => {
        const path = isStep(args) ? (await stepSite(args))?.notebook : (args.path as string);
        return path ? commands.execute('docmanager:open', { path }) : undefined;
      }
    });

    commands.addCommand(CommandIDs.openStepApp, {
      label: 'Open Step as Voila App',
      caption: "A run's step as a Voila app: its stored outputs, no code",
      isEnabled: args => isStep(args),
      execute: async args => {
        const site = await stepSite(args);
        return site ? commands.execute(CommandIDs.openVoila, { path: site.app }) : undefined;
      }
    });

    commands.addCommand(CommandIDs.openVoila, {
      label: 'Open Notebook as Voila App',
      caption: 'Render a notebook with Voila (sources hidden) in a lab tab',
      isEnabled: args => typeof args.path === 'string' || !!currentPath(app)?.endsWith('.ipynb'),
      execute: async args => {
        const path = (args.path as string) || currentPath(app);
        if (!path) return;
        const info = await api.info().catch(() => null);
        if (info && !info.voila) {
          return showErrorMessage('mlnb: Voila is not enabled',
            "Voila's Jupyter server extension is not loaded in this server (pip install voila).");
        }
        const id = `mlnb-voila-${path.replace(/[^a-zA-Z0-9_-]+/g, '-')}`;
        for (const w of shell.widgets('main')) {
          if (w.id === id) {
            ((w as MainAreaWidget<IFrame>).content.node.querySelector('iframe') as HTMLIFrameElement)
              .contentWindow?.location.reload();
            return shell.activateById(id);
          }
        }
        const frame = new IFrame({
          sandbox: ['allow-scripts', 'allow-same-origin', 'allow-forms', 'allow-downloads', 'allow-modals']
        });
        frame.url = URLExt.join(PageConfig.getBaseUrl(), 'voila', 'render', URLExt.encodeParts(path));
        frame.addClass('mlnb-VoilaFrame');
        const widget = new MainAreaWidget({ content: frame });
        widget.id = id;
        widget.title.label = (args.label as string) || `${path.split('/').pop()} (app)`;
        widget.title.caption = `Voila: ${path}`;
        widget.title.icon = mlnbIcon;
        widget.title.closable = true;
        shell.add(widget, 'main', { mode: 'split-right' });
        shell.activateById(id);
        return widget;
      }
    });

    commands.addCommand(CommandIDs.compareRuns, {
      label: 'Compare Selected mlnb Runs',
      isEnabled: args => Array.isArray(args.runs) || panel.selection !== null,
      execute: async args => {
        const sel = panel.selection;
        const workspace = (args.workspace as string) ?? sel?.workspace;
        const runs = (args.runs as string[]) ?? sel?.runs ?? [];
        if (workspace === undefined || !runs.length) {
          return showErrorMessage('mlnb: nothing to compare', 'Select runs in the mlnb sidebar first.');
        }
        const info = await api.info().catch(() => null);
        if (!info || !info.run_compare) {
          return showErrorMessage('mlnb: RunCompare is not available',
            'This mlnb installation has no mlnb.widgets.RunCompare, so runs cannot be compared. Runs: ' + runs.join(', '));
        }
        if (!info.voila) {
          return showErrorMessage('mlnb: Voila is not enabled',
            "The comparison opens as a Voila app, and Voila's Jupyter server extension is not loaded in this server " +
            '(pip install voila).');
        }
        // the server writes a one-cell app calling compare_pipeline_runs; Voila shows its output only, no code
        try {
          const compare = await api.compare(workspace, runs);
          return commands.execute(CommandIDs.openVoila, { path: compare.app, label: `Compare ${runs.length} runs` });
        } catch (e) {
          return showErrorMessage('mlnb: could not compare the runs', (e as Error).message);
        }
      }
    });

    if (palette) {
      const inPalette = [CommandIDs.openSidebar, CommandIDs.refresh, CommandIDs.runPipeline, CommandIDs.stopRun,
                         CommandIDs.openVoila, CommandIDs.compareRuns];
      for (const command of inPalette) palette.addItem({ command, category: 'mlnb' });
    }
  }
};

export default plugin;
