/**
 * Reading attestation manifests out of an image index (pushed or in an OCI layout) the way the
 * tests check `attestationDigests`: on their own, not through the product's code.
 */

interface IndexEntry {
    digest: string;
    annotations?: Record<string, string>;
}

/** The index's attestation manifests: each one's digest and the image manifest it describes (`vnd.docker.reference.digest`). */
export function attestationsOf(index: { manifests?: IndexEntry[] }): { digest: string; subject: string | undefined }[] {
    return (index.manifests ?? [])
        .filter((m) => m.annotations?.["vnd.docker.reference.type"] === "attestation-manifest")
        .map((m) => ({ digest: m.digest, subject: m.annotations?.["vnd.docker.reference.digest"] }));
}

/** Platform → digest of the attestation manifest that describes that platform's image; platforms with none are left out. */
export function attestationsByPlatform(index: { manifests?: IndexEntry[] }, platformDigests: Record<string, string>): Record<string, string> {
    const attestations = attestationsOf(index);
    return Object.fromEntries(
        Object.entries(platformDigests).flatMap(([platform, digest]) => {
            const found = attestations.find((a) => a.subject === digest);
            return found ? [[platform, found.digest]] : [];
        }),
    );
}
