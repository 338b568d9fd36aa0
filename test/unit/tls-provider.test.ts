import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { Harness, installTlsProvider, runProgram, unwrap } from "../harness";

const SERVER_NAME = "buildkitd.example.internal";

/** A CA plus a server and a client certificate, as a component issuing mutual-TLS material would. */
function pki() {
    const key = (name: string) => new tls.PrivateKey(name, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const caKey = key("ca-key");
    const ca = new tls.SelfSignedCert("ca", {
        privateKeyPem: caKey.privateKeyPem,
        subject: { commonName: "test CA", organization: "pulumi-buildx" },
        isCaCertificate: true,
        validityPeriodHours: 30,
        earlyRenewalHours: 1,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
    });
    const leaf = (part: string, uses: string[], dnsNames: string[]) => {
        const leafKey = key(`${part}-key`);
        const csr = new tls.CertRequest(`${part}-csr`, {
            privateKeyPem: leafKey.privateKeyPem,
            subject: { commonName: part, organization: "pulumi-buildx" },
            dnsNames,
        });
        const cert = new tls.LocallySignedCert(`${part}-cert`, {
            certRequestPem: csr.certRequestPem,
            caPrivateKeyPem: caKey.privateKeyPem,
            caCertPem: ca.certPem,
            validityPeriodHours: 30,
            allowedUses: uses,
        });
        return { key: leafKey, csr, cert };
    };
    const server = leaf("server", ["server_auth", "digital_signature", "key_encipherment"], [SERVER_NAME]);
    const client = leaf("client", ["client_auth", "digital_signature"], []);
    return { caKey, ca, server, client };
}

describe("tls provider test double", () => {
    let harness: Harness;
    let dir: string;
    beforeEach(async () => {
        harness = new Harness();
        await harness.install();
        installTlsProvider(harness);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tls-provider-test-"));
    });
    afterEach(() => {
        harness.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const write = (name: string, content: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, content, { mode: 0o600 });
        return file;
    };
    const openssl = (...args: string[]) => spawnSync("openssl", args, { encoding: "utf8" });
    const text = (certFile: string) => execFileSync("openssl", ["x509", "-in", certFile, "-noout", "-text"], { encoding: "utf8" });

    it("issues a CA, server and client certificate that chain to the CA with the requested uses", async () => {
        const { result, errors } = await runProgram(harness, pki);
        assert.deepStrictEqual(errors, []);
        const { ca, caKey, server, client } = result!;
        const caFile = write("ca.pem", await unwrap(ca.certPem));
        const serverFile = write("server.pem", await unwrap(server.cert.certPem));
        const clientFile = write("client.pem", await unwrap(client.cert.certPem));

        // Chains, and the purpose checks a TLS server and client apply.
        for (const [file, purpose] of [
            [serverFile, "sslserver"],
            [clientFile, "sslclient"],
        ]) {
            const r = openssl("verify", "-CAfile", caFile, "-purpose", purpose, file);
            assert.strictEqual(r.status, 0, r.stdout + r.stderr);
        }
        const wrongPurpose = openssl("verify", "-CAfile", caFile, "-purpose", "sslclient", serverFile);
        assert.notStrictEqual(wrongPurpose.status, 0, "the server certificate must not pass as a client certificate");
        const otherCa = openssl(
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            path.join(dir, "other.key"),
            "-subj",
            "/CN=other",
            "-out",
            path.join(dir, "other.pem"),
        );
        assert.strictEqual(otherCa.status, 0, otherCa.stderr);
        assert.notStrictEqual(openssl("verify", "-CAfile", path.join(dir, "other.pem"), serverFile).status, 0, "must not chain to another CA");

        const caText = text(caFile);
        assert.match(caText, /Basic Constraints: critical\s+CA:TRUE\n/);
        assert.match(caText, /Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign\n/);
        assert.match(caText, /Subject Key Identifier/);
        assert.match(caText, /Issuer: O = pulumi-buildx, CN = test CA\n[^]*Subject: O = pulumi-buildx, CN = test CA\n/); // Go's attribute order
        assert.doesNotMatch(caText, /Extended Key Usage/);

        const serverText = text(serverFile);
        assert.match(serverText, /Basic Constraints: critical\s+CA:FALSE\n/);
        assert.match(serverText, /Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
        assert.match(serverText, /Extended Key Usage:\s+TLS Web Server Authentication\n/);
        assert.doesNotMatch(serverText, /Client Authentication/);
        assert.match(serverText, new RegExp(`Subject Alternative Name:\\s+DNS:${SERVER_NAME.replace(/\./g, "\\.")}\\n`));
        assert.match(serverText, /Authority Key Identifier/);
        assert.match(serverText, /Signature Algorithm: ecdsa-with-SHA256/);

        const clientText = text(clientFile);
        assert.match(clientText, /Extended Key Usage:\s+TLS Web Client Authentication\n/);
        assert.doesNotMatch(clientText, /Server Authentication|Subject Alternative Name/);

        // Each key belongs to its certificate (and not to the other one).
        const x509 = (file: string) => new crypto.X509Certificate(fs.readFileSync(file));
        const serverKey = crypto.createPrivateKey(await unwrap(server.key.privateKeyPem));
        const clientKey = crypto.createPrivateKey(await unwrap(client.key.privateKeyPem));
        assert.ok(x509(serverFile).checkPrivateKey(serverKey));
        assert.ok(x509(clientFile).checkPrivateKey(clientKey));
        assert.ok(!x509(serverFile).checkPrivateKey(clientKey));
        assert.ok(x509(caFile).checkPrivateKey(crypto.createPrivateKey(await unwrap(caKey.privateKeyPem))));

        // Validity as the provider reports it: now + validityPeriodHours, in RFC 3339.
        const start = Date.parse(await unwrap(server.cert.validityStartTime));
        const end = Date.parse(await unwrap(server.cert.validityEndTime));
        assert.ok(Math.abs(Date.now() - start) < 60_000, `start ${start}`);
        assert.strictEqual(end - start, 30 * 3600_000);
        assert.ok(Math.abs(Date.parse(x509(serverFile).validTo) - end) < 1000);
        assert.strictEqual(await unwrap(server.cert.readyForRenewal), false);
        assert.strictEqual(await unwrap(ca.keyAlgorithm), "ECDSA");
        assert.strictEqual(await unwrap(server.cert.caKeyAlgorithm), "ECDSA");
    });

    it("returns private keys as secrets and certificates in the clear, as the SDK declares", async () => {
        const { result, errors } = await runProgram(harness, pki);
        assert.deepStrictEqual(errors, []);
        const { ca, caKey, server } = result!;
        for (const output of [
            caKey.privateKeyPem,
            caKey.privateKeyPemPkcs8,
            caKey.privateKeyOpenssh,
            ca.privateKeyPem,
            server.csr.privateKeyPem,
            server.cert.caPrivateKeyPem,
        ]) {
            assert.strictEqual(await pulumi.isSecret(output), true);
        }
        for (const output of [caKey.publicKeyPem, caKey.publicKeyOpenssh, ca.certPem, server.csr.certRequestPem, server.cert.certPem]) {
            assert.strictEqual(await pulumi.isSecret(output), false);
        }
        assert.match(await unwrap(caKey.privateKeyPem), /^-----BEGIN EC PRIVATE KEY-----\n/);
        assert.match(await unwrap(caKey.privateKeyPemPkcs8), /^-----BEGIN PRIVATE KEY-----\n/);
        assert.match(await unwrap(caKey.publicKeyPem), /^-----BEGIN PUBLIC KEY-----\n/);
        assert.match(await unwrap(server.csr.certRequestPem), /^-----BEGIN CERTIFICATE REQUEST-----\n/);
    });

    for (const [args, pemType, sshType] of [
        [{ algorithm: "RSA", rsaBits: 2048 }, "RSA PRIVATE KEY", "ssh-rsa"],
        [{ algorithm: "ECDSA", ecdsaCurve: "P384" }, "EC PRIVATE KEY", "ecdsa-sha2-nistp384"],
        [{ algorithm: "ED25519" }, "PRIVATE KEY", "ssh-ed25519"],
    ] as const) {
        it(`generates ${args.algorithm} keys in the provider's encodings, usable for certificates`, async function () {
            const { result, errors } = await runProgram(harness, () => {
                const key = new tls.PrivateKey("k", args);
                const cert = new tls.SelfSignedCert("c", {
                    privateKeyPem: key.privateKeyPem,
                    subject: { commonName: "c" },
                    validityPeriodHours: 1,
                    allowedUses: ["server_auth"],
                    dnsNames: ["c.example"],
                    ipAddresses: ["10.0.0.1"],
                });
                return { key, cert };
            });
            assert.deepStrictEqual(errors, []);
            const { key, cert } = result!;
            const pem = await unwrap(key.privateKeyPem);
            assert.match(pem, new RegExp(`^-----BEGIN ${pemType}-----\n`));
            const pub = await unwrap(key.publicKeyPem);
            assert.strictEqual(crypto.createPublicKey(pem).export({ type: "spki", format: "pem" }), pub);
            assert.strictEqual(crypto.createPublicKey(await unwrap(key.privateKeyPemPkcs8)).export({ type: "spki", format: "pem" }), pub);
            const x509 = new crypto.X509Certificate(await unwrap(cert.certPem));
            assert.ok(x509.checkPrivateKey(crypto.createPrivateKey(pem)));
            assert.strictEqual(x509.subjectAltName, "DNS:c.example, IP Address:10.0.0.1");
            assert.strictEqual(await unwrap(cert.keyAlgorithm), args.algorithm);

            // OpenSSH forms, checked with ssh-keygen: the public key is the PEM one, the private key
            // file holds it too and signs what it verifies.
            const authorized = await unwrap(key.publicKeyOpenssh);
            assert.match(authorized, new RegExp(`^${sshType} [A-Za-z0-9+/=]+\n$`));
            if (spawnSync("ssh-keygen", ["-?"]).error) return this.skip();
            // Only `-Y check-novalidate` reads stdin (the signed data). The other calls get no stdin
            // at all: a pipe they never read races their exit and fails with EPIPE under load.
            const sshKeygen = (...a: string[]) => execFileSync("ssh-keygen", a, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
            const sshKeygenWithStdin = (input: string, ...a: string[]) => execFileSync("ssh-keygen", a, { encoding: "utf8", input });
            const sshFile = write("id", await unwrap(key.privateKeyOpenssh));
            const pubFile = write("id.pub", authorized);
            if (sshType === "ssh-ed25519") {
                // ssh-keygen cannot convert these; the blob ends with the raw key, as the SPKI does.
                const raw = (der: Buffer) => der.subarray(-32).toString("hex");
                assert.strictEqual(
                    raw(Buffer.from(authorized.split(" ")[1], "base64")),
                    raw(crypto.createPublicKey(pub).export({ type: "spki", format: "der" })),
                );
            } else {
                assert.strictEqual(crypto.createPublicKey(sshKeygen("-e", "-m", "PKCS8", "-f", pubFile)).export({ type: "spki", format: "pem" }), pub);
            }
            assert.strictEqual(sshKeygen("-y", "-f", sshFile).trim(), authorized.trim());
            write("data", "signed data");
            sshKeygen("-Y", "sign", "-q", "-n", "file", "-f", sshFile, path.join(dir, "data"));
            sshKeygenWithStdin("signed data", "-Y", "check-novalidate", "-q", "-n", "file", "-f", pubFile, "-s", path.join(dir, "data.sig"));
            const fingerprint = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", pubFile], { encoding: "utf8" }).split(" ")[1];
            assert.strictEqual(await unwrap(key.publicKeyFingerprintSha256), fingerprint);
            const md5 = execFileSync("ssh-keygen", ["-l", "-E", "md5", "-f", pubFile], { encoding: "utf8" }).split(" ")[1];
            assert.strictEqual(`MD5:${await unwrap(key.publicKeyFingerprintMd5)}`, md5);
        });
    }

    it("defaults ecdsaCurve to P224, which has no OpenSSH form and cannot sign certificates", async () => {
        const { result, errors } = await runProgram(harness, () => {
            const key = new tls.PrivateKey("k", { algorithm: "ECDSA" });
            new tls.SelfSignedCert("c", { privateKeyPem: key.privateKeyPem, subject: { commonName: "c" }, validityPeriodHours: 1, allowedUses: [] });
            return key;
        });
        assert.strictEqual(await unwrap(result!.ecdsaCurve), "P224");
        assert.strictEqual(await unwrap(result!.publicKeyOpenssh), "");
        assert.strictEqual(errors.length, 1);
        assert.match(errors[0].message, /unknown elliptic curve/);
    });

    it("rejects values the provider's validators reject", async () => {
        const { errors } = await runProgram(harness, () => {
            const key = new tls.PrivateKey("k", { algorithm: "ECDSA", ecdsaCurve: "P256" });
            new tls.SelfSignedCert("uses", {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: "c" },
                validityPeriodHours: 1,
                allowedUses: ["serverAuth"],
            });
            new tls.SelfSignedCert("ca", { privateKeyPem: key.privateKeyPem, isCaCertificate: true, validityPeriodHours: 1, allowedUses: ["cert_signing"] });
        });
        const messages = errors.map((e) => e.message).join("\n");
        assert.match(messages, /allowedUses value must be one of: .*"server_auth".*got: "serverAuth"/);
        assert.match(messages, /Must contain at least one Distinguished Name when creating Certificate Authority/);
    });

    it("refuses to sign with a CA key that does not match the CA certificate", async () => {
        const { errors } = await runProgram(harness, () => {
            const { ca, server } = pki();
            const stranger = new tls.PrivateKey("stranger", { algorithm: "ECDSA", ecdsaCurve: "P256" });
            new tls.LocallySignedCert("bad", {
                certRequestPem: server.csr.certRequestPem,
                caPrivateKeyPem: stranger.privateKeyPem,
                caCertPem: ca.certPem,
                validityPeriodHours: 1,
                allowedUses: [],
            });
        });
        assert.strictEqual(errors.length, 1);
        assert.match(errors[0].message, /openssl ca failed/);
    });
});
