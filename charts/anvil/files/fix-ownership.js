// fix-ownership (the boot-server's init container, `node -e <this> DIR UID GID`, root with CAP_CHOWN only): gives
// everything under DIR to UID:GID. Root without CAP_DAC_READ_SEARCH cannot read a directory only its owner may read:
// one of UID's is left as it is (only UID, or a root with CAP_DAC_OVERRIDE, which no anvil container has, could have
// written into it); another user's is chowned to root to be read, then given to UID:GID with the rest.
'use strict';
const { lchownSync, lstatSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const [dir, uid, gid] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
let changed = 0;

function log(level, msg, extra) {
  process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), component: 'fix-ownership', dir, ...extra, msg })}\n`);
}

/** The directory's entries, and whether it had to be taken over (chowned to root) to read them. */
function entries(path, st) {
  try {
    return { names: readdirSync(path), tookOver: false };
  } catch (err) {
    if (err.code !== 'EACCES') throw err;
    if (st.uid === uid) return { names: [], tookOver: false };
    lchownSync(path, 0, st.gid);
    return { names: readdirSync(path), tookOver: true };
  }
}

function fix(path, top) {
  const st = lstatSync(path);
  let tookOver = false;
  if (st.isDirectory()) {
    const list = entries(path, st);
    tookOver = list.tookOver;
    // ext4's lost+found at the top of a block volume stays root's, as fsck expects.
    for (const name of list.names) if (!(top && name === 'lost+found')) fix(join(path, name), false);
  }
  if (tookOver || st.uid !== uid || st.gid !== gid) {
    lchownSync(path, uid, gid);
    changed++;
  }
}

try {
  if (!dir || !Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('usage: node -e <script> DIR UID GID');
  fix(dir, true);
  if (changed > 0) log(30, `gave ${changed} files to ${uid}:${gid}`, { changed });
} catch (err) {
  log(50, `cannot give the volume to ${uid}:${gid}: ${err.message}; if root may not chown on this volume (NFS with root_squash), chown it to ${uid} yourself and set bootServer.persistence.fixOwnership.enabled=false`, { code: err.code });
  process.exit(1);
}
