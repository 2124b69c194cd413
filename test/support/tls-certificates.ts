/**
 * A throw-away CA, a server certificate for 127.0.0.1 and a client certificate (for mutual TLS, with
 * `tls-auth-clients yes`), made fresh for each test run (no keys in git).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly ca: Buffer;
  /** PEM of a client certificate and its key, signed by the same CA. */
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  remove(): void;
}

export function makeTlsCertificates(): TlsCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'nest-cachekit-tls-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
    '-out', 'server.crt', '-extfile', 'san.ext');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=nest-cachekit-client', '-keyout', 'client.key', '-out', 'client.csr');
  writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
    '-out', 'client.crt', '-extfile', 'client.ext');
  return {
    dir,
    caFile: file('ca.crt'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    ca: readFileSync(file('ca.crt')),
    clientCert: readFileSync(file('client.crt')),
    clientKey: readFileSync(file('client.key')),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
