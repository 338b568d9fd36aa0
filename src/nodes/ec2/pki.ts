/**
 * The mutual-TLS material of a `tls` node: a CA of its own, the BuildKit server's certificate
 * (for a fixed name, because the VM's address is unknown when user-data is written; buildx checks
 * it with the remote driver's `servername` option) and the client certificate buildx presents.
 *
 * They are `@pulumi/tls` resources, so they are created once and stay the same across `up` runs
 * (no churn of the instance's user-data), and the private keys are secrets in state. Each node
 * has its own CA: a client certificate of one node opens no other node.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** The name in the server certificate and the `servername` buildx verifies. */
export const SERVER_NAME = "buildkitd.pulumi-buildx.internal";
/** Certificates last a year; an `up` in the last 30 days renews them (and so replaces the node). */
export const VALIDITY_HOURS = 24 * 365;
export const EARLY_RENEWAL_HOURS = 24 * 30;
const KEY = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;

export const CA_USES = ["cert_signing", "crl_signing", "digital_signature"];
// No key_encipherment: the keys are ECDSA, which signs (the TLS handshake uses ECDHE) and cannot
// encipher a key; RFC 8813 forbids the bit for EC keys, and strict verifiers refuse it.
export const SERVER_USES = ["server_auth", "digital_signature"];
export const CLIENT_USES = ["client_auth", "digital_signature"];

export interface NodePki {
    caCertPem: pulumi.Output<string>;
    serverCertPem: pulumi.Output<string>;
    /** Secret. */
    serverKeyPem: pulumi.Output<string>;
    clientCertPem: pulumi.Output<string>;
    /** Secret. */
    clientKeyPem: pulumi.Output<string>;
}

/** Creates the CA, server and client certificates as children of `parent`, named `${name}-…`. */
export function createNodePki(name: string, nodeName: string, parent: pulumi.Resource): NodePki {
    const opts = { parent };
    const caKey = new tls.PrivateKey(`${name}-ca-key`, { ...KEY }, opts);
    const ca = new tls.SelfSignedCert(
        `${name}-ca`,
        {
            privateKeyPem: caKey.privateKeyPem,
            subject: { commonName: `pulumi-buildx CA for ${nodeName}`, organization: "pulumi-buildx" },
            isCaCertificate: true,
            validityPeriodHours: VALIDITY_HOURS,
            earlyRenewalHours: EARLY_RENEWAL_HOURS,
            allowedUses: CA_USES,
        },
        opts,
    );
    const leaf = (part: "server" | "client", uses: string[], dnsNames: string[]) => {
        const key = new tls.PrivateKey(`${name}-${part}-key`, { ...KEY }, opts);
        const request = new tls.CertRequest(
            `${name}-${part}-csr`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: part === "server" ? SERVER_NAME : `buildx client of ${nodeName}`, organization: "pulumi-buildx" },
                dnsNames,
            },
            opts,
        );
        const cert = new tls.LocallySignedCert(
            `${name}-${part}-cert`,
            {
                certRequestPem: request.certRequestPem,
                caPrivateKeyPem: caKey.privateKeyPem,
                caCertPem: ca.certPem,
                validityPeriodHours: VALIDITY_HOURS,
                earlyRenewalHours: EARLY_RENEWAL_HOURS,
                allowedUses: uses,
            },
            opts,
        );
        return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
    };
    const server = leaf("server", SERVER_USES, [SERVER_NAME]);
    const client = leaf("client", CLIENT_USES, []);
    return { caCertPem: ca.certPem, serverCertPem: server.certPem, serverKeyPem: server.keyPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem };
}
