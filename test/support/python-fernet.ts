/**
 * Runs Python's `cryptography.fernet` (the reference implementation most services use) on a batch of
 * operations, for the interop tests. Needs /usr/bin/python3 with `cryptography` (Debian:
 * `apt-get install -y python3-cryptography`; `.ci/run` installs it when missing).
 */
import { spawnSync } from 'node:child_process';

export type PythonFernetOp =
  | { op: 'encrypt'; keys: string[]; data: string }
  | { op: 'decrypt'; keys: string[]; token: string; ttl?: number };

export type PythonFernetResult = { ok: true; value: string } | { ok: false; error: string };

const SCRIPT = `
import json, sys
from cryptography.fernet import Fernet, MultiFernet, InvalidToken
out = []
for op in json.load(sys.stdin):
    f = MultiFernet([Fernet(k) for k in op["keys"]])
    try:
        if op["op"] == "encrypt":
            out.append({"ok": True, "value": f.encrypt(op["data"].encode("utf-8")).decode("ascii")})
        else:
            out.append({"ok": True, "value": f.decrypt(op["token"].encode("ascii"), ttl=op.get("ttl")).decode("utf-8")})
    except InvalidToken:
        out.append({"ok": False, "error": "InvalidToken"})
json.dump(out, sys.stdout)
`;

export const PYTHON = '/usr/bin/python3';

export function pythonFernetAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import cryptography.fernet'], { stdio: 'ignore' }).status === 0;
}

export function runPythonFernet(ops: PythonFernetOp[]): PythonFernetResult[] {
  const run = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(ops), encoding: 'utf8', timeout: 20_000 });
  if (run.status !== 0) throw new Error(`python3 failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as PythonFernetResult[];
}
