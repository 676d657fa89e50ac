// Signs a webhook body as GitHub does, with GitHub's own library (@octokit/webhooks-methods),
// so the tests prove the gateway checks the signature GitHub really sends.
//   node github_sign.mjs SECRET BODY_FILE   prints "sha256=<hex>"
import { sign } from '@octokit/webhooks-methods';
import { readFileSync } from 'node:fs';

const [secret, file] = process.argv.slice(2);
process.stdout.write(await sign(secret, readFileSync(file, 'utf8')));
