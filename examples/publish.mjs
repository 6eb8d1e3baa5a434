#!/usr/bin/env node
// Publish a directory that other programs read at any time, and read it without ever seeing half
// of a publish.
//
// The publisher writes a small static site (pages plus a manifest naming the version) with the
// generations layout: `site` is a symlink to an immutable generation, and each commit builds the
// next generation beside it and swaps the symlink in one step. The reader pins the generation it
// starts with (openSnapshot), reads every file of it, and checks that they all carry one version:
// however many publishes land meanwhile, it never sees a mix.
//
//   node examples/publish.mjs publish <site> <version> [pages]
//   node examples/publish.mjs read <site>
import * as path from 'node:path';
import { begin, openSnapshot, recover } from 'txnfs';

const [command, site, versionArg, pagesArg = '20'] = process.argv.slice(2);
if ((command !== 'publish' && command !== 'read') || site === undefined || (command === 'publish' && versionArg === undefined)) {
  console.error('usage: node examples/publish.mjs publish <site> <version> [pages]\n       node examples/publish.mjs read <site>');
  process.exit(2);
}

if (command === 'publish') {
  // #region publish
  // At boot: repair a pointer a crash left behind and collect old generations nobody pins.
  await recover(site);
  const version = Number(versionArg);
  const tx = begin({ dir: site, layout: 'generations' });
  for (let page = 1; page <= Number(pagesArg); page++) {
    tx.write(`pages/${page}.html`, `<!-- version ${version} -->\n<h1>Page ${page}</h1>\n`);
  }
  tx.writeJson('manifest.json', { version, pages: Number(pagesArg) });
  const { generation } = await tx.commit();
  console.log(`published version ${version} as generation ${generation}`);
  // #endregion publish
} else {
  // #region read
  // Pin the current generation: it is not deleted, and nothing in it changes, until released.
  // (In TypeScript 5.2+: `await using snap = await openSnapshot(site)` releases it at the block's end.)
  const snap = await openSnapshot(site);
  try {
    const manifest = JSON.parse((await snap.readFile('manifest.json')).toString());
    const mixed = [];
    for (const rel of await snap.list()) {
      if (!rel.endsWith('.html')) continue;
      const html = (await snap.readFile(rel)).toString();
      if (!html.startsWith(`<!-- version ${manifest.version} -->`)) mixed.push(rel);
    }
    if (mixed.length > 0) {
      console.error(`generation ${snap.generation}: ${mixed.length} pages are not version ${manifest.version}: ${mixed.join(', ')}`);
      process.exitCode = 1;
    } else {
      console.log(`generation ${snap.generation}: version ${manifest.version}, ${manifest.pages} pages, read from ${path.basename(snap.dir)}`);
    }
  } finally {
    await snap.release();
  }
  // #endregion read
}
