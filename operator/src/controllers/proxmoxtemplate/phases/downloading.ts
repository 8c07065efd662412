// Downloading: PVE downloads the image to the import storage and verifies its checksum. An image already there
// (an earlier build, another template of the same image) is not downloaded again.
import { pollSoon, pollTask, notOk, startTask } from '../tasks.js';
import { enter, type PhaseHandler } from '../context.js';

export const downloading: PhaseHandler = async (ctx) => {
  const build = ctx.status.build!;
  const [storage] = build.importVolume!.split(':');
  const present = async (): Promise<boolean> => (await ctx.api.listStorageContent(storage!, 'import')).some((v) => v.volid === build.importVolume);
  if (ctx.status.currentTask) {
    // Another template downloading the same image (same name: it carries the checksum) may have won the race.
    const outcome = await pollTask(ctx, present);
    if (outcome !== 'ok') return notOk(ctx, outcome);
  }
  // Also after a finished task: a task PVE no longer knows (node rebooted) counts as finished, so look for the image.
  if (!(await present())) {
    const upid = await ctx.api.downloadUrl({
      storage: storage!,
      url: build.imageURL!,
      filename: build.importVolume!.slice(`${storage}:import/`.length),
      content: 'import',
      checksum: build.checksum!,
      checksumAlgorithm: build.algorithm ?? 'sha256',
    });
    startTask(ctx, upid, 'download', `downloading ${build.imageURL} to ${build.importVolume}`);
    return pollSoon(ctx);
  }
  ctx.ports.event(ctx.template, 'Normal', 'Downloaded', `${build.importVolume} is in place (checksum verified by PVE)`);
  build.step = 'create';
  return enter(ctx, 'Creating');
};
