#!/usr/bin/env node
// Make a directory hold exactly a given set of files, in one all-or-nothing commit.
//
// Each run exports version <version> of a small site with <pages> pages into <out>/site: pages a
// previous version had and this one does not are removed (tx.emptyDir), the previous version's
// drafts/v<version-1>/ tree goes (tx.removeTree), and an uploads/ directory exists afterwards even with no
// file in it (tx.mkdir). Killed at any moment, <out> is the previous version or this one,
// never a mix (the next run's recover() finishes or undoes the one that was cut short).
//
//   node examples/sync.mjs <out> <version> <pages>
import { begin, recover } from 'txnfs';

const [out, versionArg, pagesArg] = process.argv.slice(2);
if (out === undefined || versionArg === undefined || pagesArg === undefined) {
  console.error('usage: node examples/sync.mjs <out> <version> <pages>');
  process.exit(2);
}

// #region sync
await recover(out);
const version = Number(versionArg);
const tx = begin({ dir: out });
tx.emptyDir('site'); // site/ will hold exactly the pages written below
for (let page = 1; page <= Number(pagesArg); page++) {
  tx.write(`site/pages/${page}.html`, `<!-- version ${version} -->\n<h1>Page ${page}</h1>\n`);
}
tx.write('site/index.html', `<!-- version ${version} -->\n<p>${pagesArg} pages</p>\n`);
tx.removeTree(`drafts/v${version - 1}`); // the previous version's drafts go in the same commit
tx.write(`drafts/v${version}/todo.txt`, `notes for version ${version}\n`);
tx.mkdir('uploads');
const { written, removed } = await tx.commit();
// #endregion sync
console.log(`version ${version}: ${written} written, ${removed} removed`);
