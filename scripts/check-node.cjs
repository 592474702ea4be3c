// Stops `npm install` (the preinstall script) and `npm run dev` on a Node.js older than wrangler
// needs, with a way to get a newer one, instead of a long install that fails later with an
// error about something else. CommonJS and plain syntax so any old Node can run it to the message.
'use strict';

const MINIMUM = [22, 12];
const parts = process.versions.node.split('.').map(Number);
const major = parts[0];
const minor = parts[1];
const supported = major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1]);
if (!supported) {
  process.stderr.write(
    [
      `Clickhop needs Node.js >= ${MINIMUM.join('.')} (wrangler does); this is ${process.version}.`,
      'Get Node 22 with a version manager, then run npm install again:',
      '  nvm install 22 && nvm use 22        (https://github.com/nvm-sh/nvm)',
      '  fnm install 22 && fnm use 22        (https://github.com/Schniz/fnm)',
      '  volta install node@22               (https://volta.sh)',
      'or without one, from the npm registry (a real Node binary in a folder of your choice):',
      '  npm install --prefix ~/.cache/node22 node@22',
      '  export PATH="$HOME/.cache/node22/node_modules/.bin:$PATH"',
      '',
    ].join('\n'),
  );
  process.exit(1);
}
