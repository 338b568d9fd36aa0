/**
 * A CI job with native builders that exist only for the length of its build: withEphemeralBuilder
 * brings up one EC2 node per platform (ec2BuilderProgram) in a stack of its own, buildImage builds
 * and pushes on them and reads the digests back, and the stack (VMs included) is always destroyed
 * afterwards, even when the build fails. A job killed before that leaves a stack: `npm run sweep`
 * (e.g. on a schedule) removes such leftovers.
 *
 *   IMAGE=123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1 ALLOWED_CIDR=203.0.113.7/32 \
 *     SSH_PUBLIC_KEY_FILE=~/.ssh/id_ed25519.pub npm start
 *   OLDER_THAN_MINUTES=120 npm run sweep
 *
 * Needs the Pulumi CLI, a backend with a passphrase (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE),
 * AWS credentials, Docker with buildx, and the private key of SSH_PUBLIC_KEY_FILE in the SSH agent.
 */
import * as fs from "fs";
import * as path from "path";
import type { LocalWorkspaceOptions } from "@pulumi/pulumi/automation";
import { buildImage, BuildImageResult, cleanupEphemeralBuilders, EphemeralStackFactory, withEphemeralBuilder } from "pulumi-buildx";
import { ec2BuilderProgram } from "pulumi-buildx/aws";

/** What one CI job builds, and where its builder may be reached from. */
export interface CiJob {
    /** Where to push, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1`. */
    image: string;
    /** One EC2 node per platform, each building its own natively. */
    platforms: string[];
    /** The CI runner's address, e.g. `203.0.113.7/32`: only it may reach the nodes. */
    allowedCidrs: string[];
    /** Authorised on the nodes; its private key is in the SSH agent (or in sshPrivateKey). */
    sshPublicKey: string;
    sshPrivateKey?: string;
    /** The build context. Default: ../app. */
    context?: string;
    /** Where the builder stacks live. Default: the CLI's settings (PULUMI_BACKEND_URL …). */
    workspaceOptions?: LocalWorkspaceOptions;
    /** For tests that run the job without the Pulumi engine. */
    stackFactory?: EphemeralStackFactory;
    onOutput?: (line: string) => void;
}

/** Brings up the native nodes, builds and pushes on them, destroys them; returns the digests. */
export function runCiJob(job: CiJob): Promise<BuildImageResult> {
    return withEphemeralBuilder(
        {
            program: ec2BuilderProgram({
                platforms: job.platforms,
                allowedCidrs: job.allowedCidrs,
                sshPublicKey: job.sshPublicKey,
                sshPrivateKey: job.sshPrivateKey,
                // A spot node is cheaper; an interrupted one fails the build, and the job is retried.
                spot: process.env.SPOT === "true",
                node: { readyTimeoutMinutes: 10 },
            }),
            workspaceOptions: job.workspaceOptions,
            stackFactory: job.stackFactory,
            onOutput: job.onOutput,
        },
        (builder) =>
            buildImage({
                builder,
                context: job.context ?? path.join(__dirname, "..", "app"),
                platforms: job.platforms,
                tags: [job.image],
                onOutput: job.onOutput,
            }),
    );
}

async function main(command: string | undefined): Promise<void> {
    const log = (line: string) => process.stdout.write(line.endsWith("\n") ? line : `${line}\n`);
    if (command === "sweep") {
        const report = await cleanupEphemeralBuilders({ olderThanMinutes: Number(process.env.OLDER_THAN_MINUTES ?? 120), onOutput: log });
        for (const s of report.removed) console.log(`removed ${s.stackName} (created ${s.createdAt.toISOString()})`);
        for (const s of report.skipped) console.log(`skipped ${s.stackName}: ${s.reason}`);
        for (const s of report.failed) console.error(`FAILED ${s.stackName}: ${s.error}`);
        if (report.failed.length > 0) process.exit(1);
        return;
    }
    const need = (name: string) => process.env[name] || (console.error(`set ${name} (see the top of index.ts)`), process.exit(2));
    const result = await runCiJob({
        image: need("IMAGE"),
        platforms: (process.env.PLATFORMS ?? "linux/amd64,linux/arm64").split(",").map((p) => p.trim()),
        allowedCidrs: [need("ALLOWED_CIDR")],
        sshPublicKey: fs.readFileSync(need("SSH_PUBLIC_KEY_FILE").replace(/^~/, process.env.HOME ?? "~"), "utf8"),
        onOutput: log,
    });
    console.log(`index ${result.ref}`);
    for (const [platform, ref] of Object.entries(result.platformRefs)) console.log(`${platform.padEnd(16)} ${ref}`);
}

if (require.main === module) {
    main(process.argv[2]).catch((err) => {
        // The build's own error, even if destroying the builder failed too (that is logged separately).
        console.error(err);
        process.exit(1);
    });
}
