import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { BuilderPlanInput, createCommand as createArgv, planCreate as planCreateTyped, planDelete as planDeleteTyped } from "../../../src/builder/plan";
import { csvField, renderLine, renderScript, sh } from "../../../src/shell";
import { tlsDirectory, tlsEnvNames } from "../../../src/builder/tls-files";
import { expectGolden } from "../../harness/golden";

const planCreate = (p: BuilderPlanInput): string => renderScript(planCreateTyped(p));
const planDelete = (name: string): string => renderScript(planDeleteTyped(name));
const createCommand = (p: BuilderPlanInput, i: number): string => renderLine(sh`${createArgv(p, i)}`);

const golden = (name: string, actual: string): void => expectGolden(path.join("builder", name), actual);

const remote = (patch: Partial<BuilderPlanInput> = {}): BuilderPlanInput => ({
    name: "fleet",
    driver: "remote",
    nodes: [
        { name: "amd", endpoint: "tcp://10.0.0.1:1234", platforms: ["linux/amd64"], driverOpts: {}, tls: {} },
        { name: "arm", endpoint: "tcp://10.0.0.2:1234", platforms: ["linux/arm64", "linux/arm/v7"], driverOpts: {}, tls: { serverName: "arm.internal" } },
    ],
    bootstrap: true,
    use: false,
    ...patch,
});

const container = (patch: Partial<BuilderPlanInput> = {}): BuilderPlanInput => ({
    name: "ssh-fleet",
    driver: "docker-container",
    nodes: [
        { name: "local", platforms: ["linux/amd64"], driverOpts: { image: "moby/buildkit:v0.16.0", network: "host" } },
        { name: "pi", endpoint: "ssh://pi@10.0.0.3", platforms: ["linux/arm64"], driverOpts: { "env.NO_PROXY": "a,b", image: "moby/buildkit:v0.16.0" } },
    ],
    buildkitdFlags: "--debug --allow-insecure-entitlement network.host",
    buildkitdConfig: '[registry."10.0.0.9:5000"]\n  ca = ["/etc/ca.pem"]\n# it\'s quoted\n',
    bootstrap: true,
    use: true,
    ...patch,
});

describe("builder plan", () => {
    const variants: [string, string][] = [
        ["create-remote.sh", planCreate(remote())],
        ["create-docker-container.sh", planCreate(container())],
        [
            "create-no-bootstrap.sh",
            planCreate(container({ bootstrap: false, use: false, buildkitdConfig: undefined, buildkitdFlags: undefined, nodes: [container().nodes[0]] })),
        ],
        ["delete.sh", planDelete("fleet")],
    ];
    for (const [name, script] of variants) {
        it(`matches golden/builder/${name} and passes bash -n`, () => {
            golden(name, script);
            execFileSync("bash", ["-n", "-c", script]);
        });
    }

    it("creates the first node and appends the rest, pinning platforms", () => {
        const p = remote();
        assert.match(createCommand(p, 0), /^docker buildx create --name fleet --driver remote --node amd --platform linux\/amd64 /);
        assert.match(
            createCommand(p, 1),
            /^docker buildx create --append --name fleet --driver remote --node arm --platform linux\/arm64,linux\/arm\/v7 --driver-opt servername=arm.internal /,
        );
        assert.match(createCommand(p, 1), / -- tcp:\/\/10.0.0.2:1234$/);
    });

    it("points buildx at the TLS files, and reads the PEM contents only from the environment", () => {
        const script = planCreate(remote());
        assert.match(
            script,
            /--driver-opt cacert="\$\{tls_root\}"\/amd\/ca.pem --driver-opt cert="\$\{tls_root\}"\/amd\/cert.pem --driver-opt key="\$\{tls_root\}"\/amd\/key.pem/,
        );
        assert.deepStrictEqual(planCreateTyped(remote()).env, {
            PULUMI_BUILDX_NODE_0_TLS_CA: "nodes[0].tls.ca",
            PULUMI_BUILDX_NODE_0_TLS_CERT: "nodes[0].tls.cert",
            PULUMI_BUILDX_NODE_0_TLS_KEY: "nodes[0].tls.key",
            PULUMI_BUILDX_NODE_1_TLS_CA: "nodes[1].tls.ca",
            PULUMI_BUILDX_NODE_1_TLS_CERT: "nodes[1].tls.cert",
            PULUMI_BUILDX_NODE_1_TLS_KEY: "nodes[1].tls.key",
        });
        const env = tlsEnvNames(1);
        assert.match(script, new RegExp(`printf '%s\\\\n' "\\$\\{${env.key}\\}" > "\\$\\{tls_root\\}"/arm/key.pem`));
        assert.match(script, /umask 077/);
        assert.ok(!script.includes("BEGIN"), "no PEM material in the script");
    });

    it("starts each node right after adding it, so a failure names that node", () => {
        const script = planCreate(remote());
        const order = script
            .split("\n")
            .map((l) => /^node_step ('[^']*'|\S+) ('[^']*'|\S+) docker buildx (create|inspect --bootstrap)/.exec(l))
            .filter((m) => m !== null)
            .map((m) => `${m![1]} ${m![2]} ${m![3]}`);
        assert.deepStrictEqual(order, [
            "'amd (tcp://10.0.0.1:1234)' 'be created' create",
            "'amd (tcp://10.0.0.1:1234)' bootstrap inspect --bootstrap",
            "'arm (tcp://10.0.0.2:1234)' 'be appended' create",
            "'arm (tcp://10.0.0.2:1234)' bootstrap inspect --bootstrap",
        ]);
    });

    it("keeps a driver option with a comma as one CSV field", () => {
        assert.strictEqual(csvField("env.NO_PROXY=a,b"), '"env.NO_PROXY=a,b"');
        assert.strictEqual(csvField('x="y"'), '"x=""y"""');
        assert.strictEqual(csvField("network=host"), "network=host");
        assert.match(createCommand(container(), 1), /--driver-opt '"env.NO_PROXY=a,b"'/);
    });

    it("keeps TLS files in buildx's config directory", () => {
        assert.strictEqual(tlsDirectory("fleet", { HOME: "/home/u" }), "/home/u/.docker/buildx/pulumi-tls/fleet");
        assert.strictEqual(tlsDirectory("fleet", { HOME: "/home/u", DOCKER_CONFIG: "/cfg" }), "/cfg/buildx/pulumi-tls/fleet");
        assert.strictEqual(tlsDirectory("fleet", { BUILDX_CONFIG: "/bx", DOCKER_CONFIG: "/cfg" }), "/bx/pulumi-tls/fleet");
        // The script computes the same place.
        for (const env of [{ HOME: "/home/u" }, { HOME: "/h", DOCKER_CONFIG: "/cfg" }, { HOME: "/h", BUILDX_CONFIG: "/bx" }]) {
            const out = execFileSync("bash", ["-c", `${planDelete("fleet").split("\n").slice(1, 3).join("\n")}; printf %s "$tls_root"`], { env }).toString();
            assert.strictEqual(out, tlsDirectory("fleet", env));
        }
    });
});
