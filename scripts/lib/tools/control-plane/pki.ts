// The certificates and keys an ephemeral control plane needs, made with openssl (node:crypto makes
// keys but not X.509 certificates): a CA, the API server's serving certificate for 127.0.0.1, an
// admin client certificate in system:masters for kubectl and the controllers, and the service
// account signing key. Everything lives in the control plane's temporary directory.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $, which } from 'zx/core';
import { ToolError } from '../../cli/errors.ts';

export interface Pki {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  const bin = await which('openssl', { nothrow: true });
  if (!bin) throw new ToolError('openssl is needed to make the control plane\'s certificates and is not on PATH.\nFix: install it (`apt-get install openssl`).');
  const out = await $({ quiet: true, nothrow: true, cwd: dir })`${bin} ${args}`;
  if (out.exitCode !== 0) throw new ToolError(`openssl ${args[0]} failed (exit ${out.exitCode}): ${out.stderr.trim()}`);
}

export async function makePki(dir: string): Promise<Pki> {
  const p = (f: string) => path.join(dir, f);
  const pki: Pki = {
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
  };
  const days = ['-days', '2'];
  await openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', pki.caKey, '-out', pki.caCert, ...days, '-subj', '/CN=emqx-gitops-verify-ca']);
  await writeFile(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n');
  await issue('apiserver', '/CN=kube-apiserver', 'server.ext');
  await writeFile(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  await issue('admin', '/O=system:masters/CN=emqx-gitops-admin', 'client.ext');
  await openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', pki.serviceAccountKey]);
  await openssl(dir, ['pkey', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub]);
  return pki;

  async function issue(name: string, subject: string, ext: string): Promise<void> {
    await openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', subject]);
    await openssl(dir, ['x509', '-req', '-in', p(`${name}.csr`), '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-out', p(`${name}.crt`), ...days, '-extfile', p(ext)]);
  }
}
