/**
 * A test double for the `@pulumi/tls` provider that issues REAL keys and certificates, so an
 * end-to-end test can hand them to buildkitd and buildx (the provider plugin cannot be
 * downloaded here). Keys come from node:crypto, certificates and CSRs from the `openssl` CLI.
 *
 * It follows the Terraform provider the Pulumi package bridges (hashicorp/terraform-provider-tls,
 * internal/provider/*.go), which builds certificates with Go's crypto/x509:
 * - `PrivateKey`: `privateKeyPem` is PKCS#1 ("RSA PRIVATE KEY") for RSA, SEC 1 ("EC PRIVATE KEY")
 *   for ECDSA and PKCS#8 ("PRIVATE KEY") for ED25519; `privateKeyPemPkcs8` is always PKCS#8;
 *   `publicKeyPem` is PKIX; the OpenSSH outputs are "" for ECDSA P224. Defaults: `ecdsaCurve`
 *   P224, `rsaBits` 2048.
 * - Certificates: random 128-bit serial; valid from now for `validityPeriodHours`
 *   (`validityStartTime`/`validityEndTime` are RFC 3339); basicConstraints always present and
 *   critical (CA:TRUE with `isCaCertificate`); `allowedUses` split into a critical keyUsage and an
 *   extendedKeyUsage; a subject key id for CAs or with `setSubjectKeyId`; an authority key id
 *   (the CA's subject key id) on locally signed certificates; SANs from `dnsNames`,
 *   `ipAddresses`, `uris` (for `LocallySignedCert`: from the CSR), critical when the subject is
 *   empty; subject attributes in Go's order. Signatures: SHA-256 for RSA and P256, SHA-384 for
 *   P384, SHA-512 for P521; a P224 signing key fails ("x509: unknown elliptic curve"), as in Go.
 * - Secrets: like the engine, every output the SDK lists in `additionalSecretOutputs` (e.g.
 *   `privateKeyPem`) and every output whose input was secret is returned as a secret.
 *
 * Not modelled: resource ids (the harness assigns them), `readyForRenewal` (always false), name
 * constraints, the warning for a non-CA `caCertPem`. A locally signed certificate keeps the CSR's
 * subject as encoded (Go re-encodes it and drops attributes it does not model, e.g. emailAddress).
 *
 * Key material never reaches a command line: it is written to 0600 files in a private temporary
 * directory, removed afterwards.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { Harness } from "./harness";
import { isSecretWrapper, SECRET_SIG_KEY, SECRET_SIG_VALUE } from "./secrets";

import { installedMocks, onRegister } from "./sdk-internals";

export const TLS_TYPES = {
    privateKey: "tls:index/privateKey:PrivateKey",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    certRequest: "tls:index/certRequest:CertRequest",
    locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
};

/** `allowedUses` values (terraform-provider-tls common_cert.go) → OpenSSL keyUsage names. */
const KEY_USAGES: Record<string, string> = {
    digital_signature: "digitalSignature",
    content_commitment: "nonRepudiation",
    key_encipherment: "keyEncipherment",
    data_encipherment: "dataEncipherment",
    key_agreement: "keyAgreement",
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
    encipher_only: "encipherOnly",
    decipher_only: "decipherOnly",
};

/** `allowedUses` values → extendedKeyUsage OIDs (as Go's x509 encodes them). */
const EXTENDED_KEY_USAGES: Record<string, string> = {
    any_extended: "2.5.29.37.0",
    server_auth: "1.3.6.1.5.5.7.3.1",
    client_auth: "1.3.6.1.5.5.7.3.2",
    code_signing: "1.3.6.1.5.5.7.3.3",
    email_protection: "1.3.6.1.5.5.7.3.4",
    ipsec_end_system: "1.3.6.1.5.5.7.3.5",
    ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
    ipsec_user: "1.3.6.1.5.5.7.3.7",
    timestamping: "1.3.6.1.5.5.7.3.8",
    ocsp_signing: "1.3.6.1.5.5.7.3.9",
    microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
    netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
    microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
    microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};

const CURVES: Record<string, { node: string; ssh?: string }> = {
    P224: { node: "secp224r1" },
    P256: { node: "prime256v1", ssh: "nistp256" },
    P384: { node: "secp384r1", ssh: "nistp384" },
    P521: { node: "secp521r1", ssh: "nistp521" },
};

type Inputs = Record<string, any>;

/**
 * Makes `harness` answer the four `@pulumi/tls` resource types with real keys and certificates.
 * Call after `harness.install()`.
 */
export function installTlsProvider(harness: Harness): void {
    if (installedMocks() !== harness) throw new Error("installTlsProvider: call harness.install() first");
    // The mock monitor ignores `additionalSecretOutputs`; note them here so outputs can be made
    // secret as the engine would.
    const secretOutputs = new Map<string, string[]>();
    onRegister((req) => secretOutputs.set(`${req.getType()}::${req.getName()}`, req.getAdditionalsecretoutputsList()));
    const provide = (type: string, create: (inputs: Inputs) => Promise<Inputs>) =>
        harness.override(type, async (args, inputs) => {
            const state: Inputs = { ...inputs, ...(await create(inputs)) };
            const secret = new Set(secretOutputs.get(`${args.type}::${args.name}`) ?? []);
            for (const [k, v] of Object.entries(args.inputs)) if (isSecretWrapper(v)) secret.add(k);
            for (const k of secret) {
                if (state[k] !== undefined && state[k] !== null) state[k] = { [SECRET_SIG_KEY]: SECRET_SIG_VALUE, value: state[k] };
            }
            return state;
        });
    provide(TLS_TYPES.privateKey, createPrivateKey);
    provide(TLS_TYPES.selfSignedCert, createSelfSignedCert);
    provide(TLS_TYPES.certRequest, createCertRequest);
    provide(TLS_TYPES.locallySignedCert, createLocallySignedCert);
}

async function createPrivateKey(inputs: Inputs): Promise<Inputs> {
    const algorithm = oneOf("algorithm", inputs.algorithm, ["RSA", "ECDSA", "ED25519"]);
    const ecdsaCurve = oneOf("ecdsaCurve", inputs.ecdsaCurve ?? "P224", Object.keys(CURVES));
    const rsaBits: number = inputs.rsaBits ?? 2048;
    const generate = promisify(crypto.generateKeyPair) as (type: string, options: object) => Promise<crypto.KeyPairKeyObjectResult>;
    const { privateKey, publicKey } =
        algorithm === "RSA"
            ? await generate("rsa", { modulusLength: rsaBits, publicExponent: 65537 })
            : algorithm === "ECDSA"
              ? await generate("ec", { namedCurve: CURVES[ecdsaCurve].node })
              : await generate("ed25519", {});
    const pemType = { RSA: "pkcs1", ECDSA: "sec1", ED25519: "pkcs8" }[algorithm] as "pkcs1" | "sec1" | "pkcs8";
    const ssh = sshKey(privateKey);
    return {
        algorithm,
        ecdsaCurve,
        rsaBits,
        privateKeyPem: privateKey.export({ type: pemType, format: "pem" }),
        privateKeyPemPkcs8: privateKey.export({ type: "pkcs8", format: "pem" }),
        privateKeyOpenssh: ssh ? opensshPrivateKey(ssh) : "",
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }),
        publicKeyOpenssh: ssh ? `${ssh.type} ${ssh.public.toString("base64")}\n` : "",
        publicKeyFingerprintMd5: ssh
            ? crypto
                  .createHash("md5")
                  .update(ssh.public)
                  .digest("hex")
                  .replace(/(..)(?!$)/g, "$1:")
            : "",
        publicKeyFingerprintSha256: ssh ? `SHA256:${crypto.createHash("sha256").update(ssh.public).digest("base64").replace(/=+$/, "")}` : "",
    };
}

async function createSelfSignedCert(inputs: Inputs): Promise<Inputs> {
    const keyPem = privateKeyInput(inputs, "privateKeyPem");
    const key = parseKey(keyPem);
    const subject = subjectArg(inputs.subject);
    if (inputs.setAuthorityKeyId && !(inputs.isCaCertificate || inputs.setSubjectKeyId)) {
        throw new Error("Invalid Certificate Authority: Could not determine Authority Key Identifier");
    }
    return withTempDir({ "key.pem": keyPem }, async (dir) => {
        // `openssl ca` signs a request: make one, then self-sign it.
        await openssl(dir, ["req", "-new", "-utf8", "-key", "key.pem", "-subj", subject, "-out", "req.csr"]);
        const sans = { dns: inputs.dnsNames ?? [], ip: inputs.ipAddresses ?? [], uri: inputs.uris ?? [] };
        const authorityKeyId = inputs.setAuthorityKeyId ? "keyid:always" : "none";
        const cert = await issue(dir, inputs, key, ["-selfsign", "-keyfile", "key.pem"], { subject, sans, publicKey: key.publicKey, authorityKeyId });
        return { ...cert, keyAlgorithm: key.algorithm, setAuthorityKeyId: inputs.setAuthorityKeyId ?? false, privateKeyPemWo: undefined };
    });
}

async function createCertRequest(inputs: Inputs): Promise<Inputs> {
    const keyPem = privateKeyInput(inputs, "privateKeyPem");
    const key = parseKey(keyPem);
    const sans = sanSection({ dns: inputs.dnsNames ?? [], ip: inputs.ipAddresses ?? [], uri: inputs.uris ?? [] }, false);
    return withTempDir({ "key.pem": keyPem, "openssl.cnf": `${CONFIG}[ext]\n${sans}` }, async (dir) => {
        const digest = key.digest ? [`-${key.digest}`] : [];
        const extensions = sans ? ["-reqexts", "ext"] : [];
        await openssl(dir, ["req", "-new", "-utf8", "-key", "key.pem", "-subj", subjectArg(inputs.subject), ...extensions, ...digest, "-out", "req.csr"]);
        const certRequestPem = await fs.promises.readFile(path.join(dir, "req.csr"), "utf8");
        return { certRequestPem, keyAlgorithm: key.algorithm, privateKeyPemWo: undefined };
    });
}

async function createLocallySignedCert(inputs: Inputs): Promise<Inputs> {
    const caKeyPem = privateKeyInput(inputs, "caPrivateKeyPem");
    const caKey = parseKey(caKeyPem);
    const files = { "ca-key.pem": caKeyPem, "ca.pem": String(inputs.caCertPem), "req.csr": String(inputs.certRequestPem) };
    return withTempDir(files, async (dir) => {
        const request = await openssl(dir, ["req", "-in", "req.csr", "-noout", "-text", "-nameopt", "RFC2253"]);
        const subjectLine = /^\s*Subject:(.*)$/m.exec(request)?.[1].trim() ?? "";
        const sanLine = /X509v3 Subject Alternative Name:.*\n\s*(.*)/.exec(request)?.[1] ?? "";
        const sans: Sans = { dns: [], ip: [], uri: [] };
        for (const name of sanLine.split(", ").filter((n) => n !== "")) {
            const [kind, ...rest] = name.split(":");
            const value = rest.join(":");
            if (kind === "DNS") sans.dns.push(value);
            else if (kind === "IP Address") sans.ip.push(value);
            else if (kind === "URI") sans.uri.push(value);
        }
        const publicKey = crypto.createPublicKey(await openssl(dir, ["req", "-in", "req.csr", "-noout", "-pubkey"]));
        const cert = await issue(dir, inputs, caKey, ["-cert", "ca.pem", "-keyfile", "ca-key.pem"], {
            subject: subjectLine,
            sans,
            publicKey,
            authorityKeyId: "keyid",
        });
        return { ...cert, caKeyAlgorithm: caKey.algorithm, caPrivateKeyPemWo: undefined };
    });
}

interface Sans {
    dns: string[];
    ip: string[];
    uri: string[];
}

interface ParsedKey {
    algorithm: "RSA" | "ECDSA" | "ED25519";
    /** The digest Go's x509 signs with (none for ED25519). */
    digest?: string;
    publicKey: crypto.KeyObject;
}

/** Signs `req.csr` in `dir` with `openssl ca`; returns the certificate outputs. */
async function issue(
    dir: string,
    inputs: Inputs,
    signer: ParsedKey,
    signerArgs: string[],
    cert: { subject: string; sans: Sans; publicKey: crypto.KeyObject; authorityKeyId: string },
): Promise<Inputs> {
    const hours = inputs.validityPeriodHours;
    if (typeof hours !== "number" || hours < 0) throw new Error(`validityPeriodHours must be a number at least 0, got ${hours}`);
    const allowedUses: string[] = inputs.allowedUses ?? [];
    for (const use of allowedUses) oneOf("allowedUses", use, [...Object.keys(KEY_USAGES), ...Object.keys(EXTENDED_KEY_USAGES)]);
    const isCa = inputs.isCaCertificate === true;
    const emptySubject = cert.subject === "/" || cert.subject === "";
    if (isCa && emptySubject)
        throw new Error("Invalid Certificate Subject: Must contain at least one Distinguished Name when creating Certificate Authority (CA)");

    const skid = isCa || inputs.setSubjectKeyId ? subjectKeyId(cert.publicKey) : "none";
    const keyUsages = allowedUses.filter((u) => u in KEY_USAGES).map((u) => KEY_USAGES[u]);
    const extKeyUsages = allowedUses.filter((u) => u in EXTENDED_KEY_USAGES).map((u) => EXTENDED_KEY_USAGES[u]);
    const pathLen = isCa && inputs.maxPathLength > 0 ? `, pathlen:${inputs.maxPathLength}` : "";
    const sans = sanSection(cert.sans, emptySubject);
    const extensions = [
        "[ext]",
        `basicConstraints = critical, CA:${isCa ? "TRUE" : "FALSE"}${pathLen}`,
        keyUsages.length > 0 ? `keyUsage = critical, ${keyUsages.join(", ")}` : "",
        extKeyUsages.length > 0 ? `extendedKeyUsage = ${extKeyUsages.join(", ")}` : "",
        `subjectKeyIdentifier = ${skid}`,
        `authorityKeyIdentifier = ${cert.authorityKeyId}`,
        sans,
    ];
    await fs.promises.writeFile(path.join(dir, "ext.cnf"), extensions.filter((l) => l !== "").join("\n") + "\n");
    await fs.promises.writeFile(path.join(dir, "index.txt"), "");
    await fs.promises.writeFile(path.join(dir, "serial"), crypto.randomBytes(16).toString("hex") + "\n");

    const start = new Date();
    const end = new Date(start.getTime() + hours * 3600_000);
    await openssl(dir, [
        "ca",
        "-batch",
        "-notext",
        "-preserveDN",
        "-utf8",
        ...signerArgs,
        ...(signer.digest ? ["-md", signer.digest] : []),
        "-in",
        "req.csr",
        "-out",
        "cert.pem",
        "-startdate",
        asn1Time(start),
        "-enddate",
        asn1Time(end),
        "-extfile",
        "ext.cnf",
        "-extensions",
        "ext",
    ]);
    return {
        certPem: await fs.promises.readFile(path.join(dir, "cert.pem"), "utf8"),
        validityStartTime: rfc3339(start),
        validityEndTime: rfc3339(end),
        readyForRenewal: false,
        isCaCertificate: isCa,
        earlyRenewalHours: inputs.earlyRenewalHours ?? 0,
        setSubjectKeyId: inputs.setSubjectKeyId ?? false,
    };
}

/** The configuration every `openssl` run uses (not the system's): PrintableString where possible, else UTF8String, as Go encodes names. */
const CONFIG = `string_mask = MASK:0x2002
[req]
distinguished_name = dn
[dn]
[ca]
default_ca = ca_default
[ca_default]
database = index.txt
serial = serial
new_certs_dir = .
policy = policy_any
unique_subject = no
[policy_any]
`;

async function withTempDir<T>(files: Record<string, string>, fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tls-provider-"));
    try {
        for (const [name, content] of Object.entries({ "openssl.cnf": CONFIG, ...files })) {
            await fs.promises.writeFile(path.join(dir, name), content, { mode: 0o600 });
        }
        return await fn(dir);
    } finally {
        await fs.promises.rm(dir, { recursive: true, force: true });
    }
}

/** Runs `openssl` in `dir` with `dir/openssl.cnf` (CONFIG) as its configuration. */
async function openssl(dir: string, args: string[]): Promise<string> {
    try {
        const { stdout } = await promisify(execFile)("openssl", args, { cwd: dir, env: { ...process.env, OPENSSL_CONF: path.join(dir, "openssl.cnf") } });
        return stdout;
    } catch (err: any) {
        throw new Error(`tls provider: openssl ${args[0]} failed: ${(err.stderr || err.message).trim()}`);
    }
}

function oneOf(attribute: string, value: unknown, allowed: string[]): string {
    if (typeof value !== "string" || !allowed.includes(value)) {
        throw new Error(
            `Invalid Attribute Value Match: Attribute ${attribute} value must be one of: ${JSON.stringify(allowed)}, got: ${JSON.stringify(value)}`,
        );
    }
    return value;
}

/** The private key from `name` or its write-only twin `${name}Wo` (which the resources leave out of their outputs). */
function privateKeyInput(inputs: Inputs, name: string): string {
    const pem = inputs[name] ?? inputs[`${name}Wo`];
    if (typeof pem !== "string") throw new Error(`${name} is required`);
    return pem;
}

/** Parses a private key PEM the provider accepts: PKCS#1, SEC 1 or PKCS#8, unencrypted. */
function parseKey(pem: string): ParsedKey {
    const preamble = /-----BEGIN ([A-Z ]+)-----/.exec(pem)?.[1];
    if (!preamble || !["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"].includes(preamble)) {
        throw new Error(`Failed to parse private key PEM: unable to determine parser for PEM preamble: ${preamble}`);
    }
    const publicKey = crypto.createPublicKey(crypto.createPrivateKey(pem));
    switch (publicKey.asymmetricKeyType) {
        case "rsa":
            return { algorithm: "RSA", digest: "sha256", publicKey };
        case "ed25519":
            return { algorithm: "ED25519", publicKey };
        case "ec": {
            const digest = { prime256v1: "sha256", secp384r1: "sha384", secp521r1: "sha512" }[publicKey.asymmetricKeyDetails?.namedCurve ?? ""];
            if (!digest) throw new Error("Failed to create certificate: x509: unknown elliptic curve");
            return { algorithm: "ECDSA", digest, publicKey };
        }
        default:
            throw new Error(`unsupported private key type: ${publicKey.asymmetricKeyType}`);
    }
}

/**
 * The subject key identifier as the provider computes it: SHA-1 of the public key bytes, which
 * is OpenSSL's "hash" method, except for ED25519, where the provider hashes the key's ASN.1
 * OCTET STRING encoding.
 */
function subjectKeyId(publicKey: crypto.KeyObject): string {
    if (publicKey.asymmetricKeyType !== "ed25519") return "hash";
    const raw = publicKey.export({ type: "spki", format: "der" }).subarray(-32);
    return crypto
        .createHash("sha1")
        .update(Buffer.concat([Buffer.from([0x04, 0x20]), raw]))
        .digest("hex")
        .replace(/(..)(?!$)/g, "$1:");
}

/** `-subj` argument in the order Go's pkix.Name writes attributes (several street addresses form one RDN). */
function subjectArg(subject: Inputs | undefined): string {
    const s = subject ?? {};
    const esc = (v: string) => v.replace(/[\\/+]/g, "\\$&");
    const rdns: string[] = [];
    const add = (attr: string, v: unknown) => {
        if (typeof v === "string") rdns.push(`${attr}=${esc(v)}`);
    };
    add("C", s.country);
    add("ST", s.province);
    add("L", s.locality);
    if (Array.isArray(s.streetAddresses) && s.streetAddresses.length > 0) rdns.push(s.streetAddresses.map((a: string) => `street=${esc(a)}`).join("+"));
    add("postalCode", s.postalCode);
    add("O", s.organization);
    add("OU", s.organizationalUnit);
    add("CN", s.commonName);
    add("serialNumber", s.serialNumber);
    add("emailAddress", s.emailAddress);
    return "/" + rdns.join("/");
}

/** The `subjectAltName` line and its section, or "" without names. */
function sanSection(sans: Sans, critical: boolean): string {
    for (const ip of sans.ip) if (!net.isIP(ip)) throw new Error(`Invalid IP address: Failed to parse "${ip}"`);
    const conf = (v: string) => v.replace(/[\\#$"']/g, "\\$&");
    const names = [...sans.dns.map((v) => ["DNS", v]), ...sans.ip.map((v) => ["IP", v]), ...sans.uri.map((v) => ["URI", v])];
    if (names.length === 0) return "";
    return `subjectAltName = ${critical ? "critical, " : ""}@sans\n[sans]\n${names.map(([k, v], i) => `${k}.${i} = ${conf(v)}`).join("\n")}\n`;
}

/** ASN.1 time for `openssl ca`: UTCTime before 2050, GeneralizedTime after (RFC 5280, as Go does). */
function asn1Time(d: Date): string {
    const s = d
        .toISOString()
        .replace(/\.\d+Z$/, "Z")
        .replace(/[-:T]/g, "");
    return d.getUTCFullYear() < 2050 ? s.slice(2) : s;
}

function rfc3339(d: Date): string {
    return d.toISOString().replace(/\.?0+Z$/, "Z");
}

// --- OpenSSH encodings (RFC 4253 wire format; "openssh-key-v1" for the private key) ---

interface SshKey {
    type: string;
    public: Buffer;
    private: Buffer;
}

const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
};
const sshString = (b: Buffer | string) => Buffer.concat([u32(Buffer.byteLength(b)), Buffer.from(b)]);
const mpint = (base64url: string) => {
    let b = Buffer.from(base64url, "base64url");
    while (b.length > 0 && b[0] === 0) b = b.subarray(1);
    return sshString(b.length > 0 && b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
};

/** The key's OpenSSH public blob and private fields; undefined for P224, which OpenSSH lacks. */
function sshKey(key: crypto.KeyObject): SshKey | undefined {
    const curve = Object.values(CURVES).find((c) => c.node === key.asymmetricKeyDetails?.namedCurve);
    if (key.asymmetricKeyType === "ec" && !curve?.ssh) return undefined;
    const jwk = key.export({ format: "jwk" }) as Record<string, string>;
    const b = (v: string) => Buffer.from(v, "base64url");
    if (key.asymmetricKeyType === "rsa") {
        const head = [sshString("ssh-rsa")];
        return {
            type: "ssh-rsa",
            public: Buffer.concat([...head, mpint(jwk.e), mpint(jwk.n)]),
            private: Buffer.concat([...head, mpint(jwk.n), mpint(jwk.e), mpint(jwk.d), mpint(jwk.qi), mpint(jwk.p), mpint(jwk.q)]),
        };
    }
    if (key.asymmetricKeyType === "ec") {
        const type = `ecdsa-sha2-${curve!.ssh}`;
        const pub = [sshString(type), sshString(curve!.ssh!), sshString(Buffer.concat([Buffer.from([4]), b(jwk.x), b(jwk.y)]))];
        return { type, public: Buffer.concat(pub), private: Buffer.concat([...pub, mpint(jwk.d)]) };
    }
    const pub = [sshString("ssh-ed25519"), sshString(b(jwk.x))];
    return { type: "ssh-ed25519", public: Buffer.concat(pub), private: Buffer.concat([...pub, sshString(Buffer.concat([b(jwk.d), b(jwk.x)]))]) };
}

/** An unencrypted "OPENSSH PRIVATE KEY" PEM with an empty comment, as x/crypto/ssh MarshalPrivateKey writes it. */
function opensshPrivateKey(key: SshKey): string {
    const check = crypto.randomBytes(4);
    let section = Buffer.concat([check, check, key.private, sshString("")]);
    for (let pad = 1; section.length % 8 !== 0; pad++) section = Buffer.concat([section, Buffer.from([pad])]);
    const body = Buffer.concat([
        Buffer.from("openssh-key-v1\0"),
        sshString("none"),
        sshString("none"),
        sshString(""),
        u32(1),
        sshString(key.public),
        sshString(section),
    ]);
    const lines = body
        .toString("base64")
        .match(/.{1,64}/g)!
        .join("\n");
    return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
