import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { BuilderArgs } from "../../../src/builder/args";
import { defaultBuilderName, endpointProblem, NAME_PATTERN, validateBuilderArgs } from "../../../src/builder/validate";

const PEM = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;
const TLS = { ca: PEM("CERTIFICATE"), cert: PEM("CERTIFICATE"), key: PEM("PRIVATE KEY") };
const DEFAULTS = { project: "proj", stack: "dev" };

const remote = (): BuilderArgs => ({
    driver: "remote",
    nodes: [
        { name: "amd", endpoint: "tcp://10.0.0.1:1234", platforms: ["linux/amd64"], tls: { ...TLS } },
        { name: "arm", endpoint: "tcp://10.0.0.2:1234", platforms: ["arm64"], tls: { ...TLS, serverName: "arm.internal" } },
    ],
});
const container = (): BuilderArgs => ({
    nodes: [
        { name: "local", platforms: ["linux/amd64"] },
        { name: "pi", endpoint: "ssh://root@10.0.0.3", platforms: ["linux/arm/v7"] },
    ],
});

function problemsOf(args: BuilderArgs): pulumi.InputPropertiesError {
    try {
        validateBuilderArgs("fleet", args, DEFAULTS);
    } catch (err) {
        assert.ok(pulumi.InputPropertiesError.isInstance(err), String(err));
        return err as pulumi.InputPropertiesError;
    }
    assert.fail("expected an InputPropertiesError");
}

describe("Builder argument validation", () => {
    it("accepts a remote builder with mTLS and normalises platforms", () => {
        const v = validateBuilderArgs("fleet", remote(), DEFAULTS);
        assert.strictEqual(v.driver, "remote");
        assert.strictEqual(v.name, "proj-dev-fleet");
        assert.deepStrictEqual(
            v.nodes.map((n) => [n.name, n.platforms, n.hasTls]),
            [
                ["amd", ["linux/amd64"], true],
                ["arm", ["linux/arm64"], true],
            ],
        );
        assert.strictEqual(v.bootstrap, true);
        assert.strictEqual(v.use, false);
    });

    it("accepts docker-container nodes: local, ssh://, a unix socket and a context", () => {
        const v = validateBuilderArgs(
            "fleet",
            {
                ...container(),
                nodes: [...container().nodes, { name: "sock", endpoint: "unix:///run/other.sock" }, { name: "ctx", endpoint: "my-context" }],
                buildkitdConfig: "[worker.oci]\n  max-parallelism = 2\n",
                buildkitdFlags: "--debug",
                name: "team.fleet_1",
            },
            DEFAULTS,
        );
        assert.strictEqual(v.driver, "docker-container");
        assert.strictEqual(v.name, "team.fleet_1");
        assert.strictEqual(v.nodes.length, 4);
    });

    it("accepts endpoints and TLS material that are Outputs (checked when they resolve)", () => {
        const v = validateBuilderArgs(
            "fleet",
            {
                driver: "remote",
                nodes: [
                    { name: "ec2", endpoint: pulumi.output("tcp://x:1"), tls: { ca: pulumi.output("c"), cert: pulumi.output("c"), key: pulumi.secret("k") } },
                ],
            },
            DEFAULTS,
        );
        assert.strictEqual(v.nodes[0].hasTls, true);
    });

    const key = "-----BEGIN PRIVATE KEY-----\nSECRET-KEY-MATERIAL\n-----END PRIVATE KEY-----\n";
    const cases: [string, (a: BuilderArgs) => void, BuilderArgs, string, RegExp][] = [
        ["no nodes", (a) => (a.nodes = []), container(), "nodes", /non-empty list of nodes/],
        ["nodes not a list", (a) => (a.nodes = undefined as never), container(), "nodes", /non-empty list/],
        [
            "unknown driver",
            (a) => (a.driver = "kubernetes" as never),
            container(),
            "driver",
            /"kubernetes" is not valid: expected "docker-container" or "remote"/,
        ],
        ["duplicate node names", (a) => (a.nodes[1].name = "amd"), remote(), "nodes[1].name", /nodes\[0\] is also called "amd"/],
        ["node without a name", (a) => delete (a.nodes[0] as { name?: string }).name, container(), "nodes[0].name", /is required/],
        [
            "upper-case node name",
            (a) => (a.nodes[0].name = "Local"),
            container(),
            "nodes[0].name",
            /"Local" is not valid: expected a node name: a lower-case letter/,
        ],
        ["bad instance name", (a) => (a.name = "1fleet"), container(), "name", /"1fleet" is not valid: expected a buildx instance name/],
        [
            "tcp:// endpoint on docker-container",
            (a) => (a.nodes[1].endpoint = "tcp://10.0.0.3:1234"),
            container(),
            "nodes[1].endpoint",
            /does not fit driver "docker-container".*needs driver "remote"/,
        ],
        [
            "ssh:// endpoint on remote",
            (a) => (a.nodes[0].endpoint = "ssh://root@10.0.0.1"),
            remote(),
            "nodes[0].endpoint",
            /"ssh:\/\/root@10.0.0.1" does not fit driver "remote": expected tcp:\/\/host:port/,
        ],
        ["http:// endpoint on remote", (a) => (a.nodes[0].endpoint = "http://10.0.0.1:1234"), remote(), "nodes[0].endpoint", /does not fit driver "remote"/],
        ["tcp:// endpoint without a port", (a) => (a.nodes[0].endpoint = "tcp://10.0.0.1"), remote(), "nodes[0].endpoint", /does not fit driver "remote"/],
        ["remote node without endpoint", (a) => delete a.nodes[0].endpoint, remote(), "nodes[0].endpoint", /is required: for driver "remote"/],
        ["tls on docker-container", (a) => (a.nodes[1].tls = { ...TLS }), container(), "nodes[1].tls", /only for driver "remote"/],
        [
            "tls missing on a tcp:// remote node",
            (a) => delete a.nodes[1].tls,
            remote(),
            "nodes[1].tls",
            /is required: .*tcp:\/\/10.0.0.2:1234 is a tcp:\/\/ endpoint/,
        ],
        [
            "tls on a unix:// remote node",
            (a) => (a.nodes[0].endpoint = "unix:///run/buildkit.sock"),
            remote(),
            "nodes[0].endpoint",
            /tls` applies to tcp:\/\/ endpoints only/,
        ],
        ["partial TLS: no key", (a) => delete (a.nodes[0].tls as { key?: string }).key, remote(), "nodes[0].tls.key", /is required: the client private key/],
        ["partial TLS: empty ca", (a) => (a.nodes[1].tls!.ca = ""), remote(), "nodes[1].tls.ca", /is required: the CA certificate/],
        [
            "a file path instead of PEM",
            (a) => (a.nodes[0].tls!.cert = "/etc/certs/client.pem"),
            remote(),
            "nodes[0].tls.cert",
            /is not PEM contents.*not a file path/,
        ],
        [
            "overlapping pinned platforms",
            (a) => (a.nodes[1].platforms = ["linux/arm64", "x86_64"]),
            remote(),
            "nodes[1].platforms[1]",
            /"linux\/amd64" is pinned on both node "amd" \(nodes\[0\]\) and node "arm" \(nodes\[1\]\)/,
        ],
        ["unknown platform", (a) => (a.nodes[0].platforms = ["linux/arm65"]), container(), "nodes[0].platforms[0]", /unknown architecture "arm65"/],
        ["platform twice on one node", (a) => (a.nodes[0].platforms = ["arm64", "aarch64"]), container(), "nodes[0].platforms[1]", /same as platforms\[0\]/],
        ["TLS through driverOpts", (a) => (a.nodes[0].driverOpts = { key: "/tmp/key.pem" }), remote(), "nodes[0].driverOpts.key", /give it in `tls` instead/],
        ["bad driver option name", (a) => (a.nodes[0].driverOpts = { "bad key": "x" }), container(), "nodes[0].driverOpts.bad key", /driver option name/],
        ["buildkitdFlags on remote", (a) => (a.buildkitdFlags = "--debug"), remote(), "buildkitdFlags", /not supported by the remote driver/],
        ["buildkitdConfig on remote", (a) => (a.buildkitdConfig = "debug = true"), remote(), "buildkitdConfig", /not supported by the remote driver/],
        ["bootstrap not boolean", (a) => (a.bootstrap = "yes" as never), container(), "bootstrap", /true or false/],
        ["bad serverName", (a) => (a.nodes[0].tls!.serverName = "a,b"), remote(), "nodes[0].tls.serverName", /host name or IP/],
    ];
    for (const [title, mutate, base, property, message] of cases) {
        it(`rejects ${title} naming ${property}`, () => {
            mutate(base);
            const e = problemsOf(base);
            const mine = e.errors.find((x) => x.propertyPath === property);
            assert.ok(mine, `no error for ${property}; got ${JSON.stringify(e.errors)}`);
            assert.match(mine!.reason, message);
            assert.match(e.message, /Builder "fleet" has invalid arguments/);
        });
    }

    it("never quotes TLS material in an error", () => {
        const args = remote();
        args.nodes[0].tls!.key = "SECRET-KEY-MATERIAL";
        args.nodes[1].tls!.key = key;
        args.nodes[1].endpoint = "ssh://x";
        const e = problemsOf(args);
        assert.ok(!e.message.includes("SECRET-KEY-MATERIAL"), e.message);
    });

    it("names duplicates by their own index even after a node that is not an object", () => {
        const e = problemsOf({ nodes: [null as never, { name: "a" }, { name: "a", endpoint: "ssh://h" }] });
        assert.deepStrictEqual(
            e.errors.map((x) => [x.propertyPath, /nodes\[1\] is also called "a"/.test(x.reason) || /a node \{ name/.test(x.reason)]),
            [
                ["nodes[0]", true],
                ["nodes[2].name", true],
            ],
        );
    });

    it("reports every problem at once", () => {
        const e = problemsOf({
            driver: "remote",
            name: "Bad Name",
            nodes: [
                { name: "a", endpoint: "ssh://x" },
                { name: "a", endpoint: "tcp://h:1" },
            ],
        });
        assert.deepStrictEqual(e.errors.map((x) => x.propertyPath).sort(), ["name", "nodes[0].endpoint", "nodes[1].name", "nodes[1].tls"]);
    });
});

describe("default builder names", () => {
    const cases: [string, string, string, string][] = [
        ["proj", "dev", "fleet", "proj-dev-fleet"],
        ["My Project", "org/Prod", "Fleet", "my-project-org-prod-fleet"],
        ["9lives", "dev", "b", "lives-dev-b"],
        ["___", "!!!", "x", "x"],
    ];
    for (const [project, stack, resource, want] of cases) {
        it(`${project} / ${stack} / ${resource} → ${want}`, () => assert.strictEqual(defaultBuilderName(project, stack, resource), want));
    }

    it("differ between stacks and stay valid and short for long names", () => {
        const long = "x".repeat(80);
        const a = defaultBuilderName("p", `${long}-a`, "fleet");
        const b = defaultBuilderName("p", `${long}-b`, "fleet");
        assert.notStrictEqual(a, b);
        for (const n of [a, b]) {
            assert.match(n, NAME_PATTERN);
            assert.ok(n.length <= 48, n);
        }
    });
});

describe("endpoint checks after Outputs resolve", () => {
    const cases: [string, "remote" | "docker-container", string | undefined, boolean, RegExp | undefined][] = [
        ["remote tcp with tls", "remote", "tcp://10.0.0.1:1234", true, undefined],
        ["remote IPv6 tcp with tls", "remote", "tcp://[fd00::1]:1234", true, undefined],
        ["remote tcp without tls", "remote", "tcp://10.0.0.1:1234", false, /without `tls`/],
        ["remote unix", "remote", "unix:///run/buildkit/buildkitd.sock", false, undefined],
        ["remote nothing", "remote", undefined, false, /is required/],
        ["docker-container local", "docker-container", undefined, false, undefined],
        ["docker-container ssh with port", "docker-container", "ssh://ubuntu@host.example.com:2222", false, undefined],
        ["docker-container ssh with a path", "docker-container", "ssh://host/path", false, /does not fit/],
        ["docker-container https", "docker-container", "https://host", false, /does not fit/],
    ];
    for (const [title, driver, endpoint, tls, want] of cases) {
        it(title, () => {
            const got = endpointProblem(driver, endpoint, tls);
            if (want === undefined) assert.strictEqual(got, undefined);
            else assert.match(got ?? "", want);
        });
    }
});
