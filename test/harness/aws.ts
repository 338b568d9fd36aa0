import * as fs from "fs";
import * as http from "http";
import { HOST_KEY_MARKER } from "../../src/nodes/ec2/host-key";
import { madeUpHostKey } from "../../src/testing/answers";

export { madeUpHostKey };
import { Harness, RecordedResource } from "./harness";

/** One recorded invoke. */
export interface Invoke {
    token: string;
    args: Record<string, any>;
}

/** The console text of an instance (`undefined`: no output yet, as for an instance that has just started). */
export type ConsoleOf = (instance: RecordedResource) => string | undefined;

export interface AwsLookupOptions {
    /**
     * A known_hosts file (`ADDRESS TYPE KEY` lines) of the stand-in hosts: an instance's console
     * then shows the key of the host its address maps to, as the VM would print it. Without
     * it, each instance gets a made-up key of its own.
     */
    knownHosts?: string;
    /** Replaces the console of every instance (e.g. one that shows an impostor's key). */
    console?: ConsoleOf;
    /** A region without a default VPC (getVpcs with `is-default` answers no IDs, as AWS does). */
    noDefaultVpc?: boolean;
}

/** Whether a getVpcs call asks for the default VPC (filter `is-default` = `true`). */
function isDefaultFilter(args: Record<string, any>): boolean {
    return (args.filters ?? []).some((f: { name: string; values: string[] }) => f.name === "is-default" && f.values.includes("true"));
}

/**
 * Answers the AWS look-ups an Ec2BuilderNode makes (AMI parameter, default VPC, zones offering the
 * type, default subnets, a subnet's VPC) with fixed, recognisable values, and records each call in
 * `invokes`. No AWS API is reachable from the tests; these answers stand in for a region whose
 * default VPC has subnets `subnet-aaa` and `subnet-bbb` in zones that offer every type (or, with
 * `noDefaultVpc`, a region without a default VPC).
 *
 * It also makes `harness` the one the stand-in EC2 API (below) answers `GetConsoleOutput` for.
 */
export function answerAwsLookups(harness: Harness, invokes: Invoke[] = [], opts: AwsLookupOptions = {}): Invoke[] {
    const answer = (token: string, fn: (args: Record<string, any>) => Record<string, any>) =>
        harness.overrideCall(token, (a) => {
            invokes.push({ token, args: a.inputs });
            return fn(a.inputs);
        });
    const ami = (name: string) => `ami-for-${String(name).split("-").pop()}`;
    answer("aws:ssm/getParameter:getParameter", (a) => ({ name: a.name, type: "String", value: ami(a.name), insecureValue: ami(a.name) }));
    answer("aws:ec2/getVpcs:getVpcs", (a) => ({ id: "region", ids: isDefaultFilter(a) && !opts.noDefaultVpc ? ["vpc-default"] : [], filters: a.filters }));
    answer("aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings", () => ({
        locations: ["us-east-1b", "us-east-1a"],
        locationTypes: [],
        instanceTypes: [],
    }));
    answer("aws:ec2/getSubnets:getSubnets", () => ({ ids: ["subnet-bbb", "subnet-aaa"] }));
    answer("aws:ec2/getSubnet:getSubnet", (a) => ({ id: a.id, vpcId: `vpc-of-${a.id}` }));
    ec2Api.serve(harness, opts);
    return invokes;
}

// ---------------------------------------------------------------------------------------------
// The stand-in EC2 API

/** The host key of `address` in a known_hosts file (`ADDRESS TYPE KEY`), ed25519 only. */
function knownHostKey(file: string, address: string): string | undefined {
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const [hosts, type, key] = line.trim().split(/\s+/);
        if (type === "ssh-ed25519" && key && hosts.split(",").includes(address)) return `${type} ${key}`;
    }
    return undefined;
}

/**
 * What the instance's serial console shows: kernel lines, then what its user-data prints there
 * (the host key line, only when the user-data has the section that prints it).
 */
export function consoleText(instance: RecordedResource, hostKey: string): string {
    const userData = String(instance.inputs.userData ?? "");
    const lines = [
        "[    0.000000] Linux version 6.1.119-129.201.amzn2023.x86_64 (mockbuild@ip-10-0-0-1) #1 SMP",
        "[    2.104511] cloud-init[1598]: Cloud-init v. 22.2.2 running 'init' at Thu, 03 Dec 2026 06:00:00 +0000.",
    ];
    if (userData.includes(HOST_KEY_MARKER)) lines.push(`${HOST_KEY_MARKER} ${hostKey}`);
    return `${lines.join("\r\n")}\r\n`;
}

/**
 * A local HTTP server that answers the EC2 Query API's `GetConsoleOutput` the way AWS does (XML,
 * base64 `output`; `InvalidInstanceID.NotFound` for an unknown ID), for the instances of the
 * current harness. Started when this module loads; `AWS_ENDPOINT_URL_EC2` sends the AWS SDK
 * there, with dummy credentials (the test process never signs with real ones).
 */
class StandInEc2Api {
    private current?: { harness: Harness; opts: AwsLookupOptions };
    /** Instances of no harness (programs under the real engine): instance ID → console text. */
    private fixed?: Record<string, string>;
    /** Instance ID → how many of its next calls answer NotFound (a new ID EC2 does not show everywhere yet). */
    private notFound: Record<string, number> = {};
    /** Every GetConsoleOutput call: the instance ID and whether `Latest` was asked. */
    readonly calls: { instanceId: string; latest: boolean }[] = [];
    /** Resolves once the server listens and `AWS_ENDPOINT_URL_EC2` points at it. */
    readonly ready: Promise<void>;
    private listening!: () => void;

    constructor() {
        this.ready = new Promise((resolve) => (this.listening = resolve));
        const server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => this.answer(new URLSearchParams(body), res));
        });
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as { port: number };
            process.env.AWS_ENDPOINT_URL_EC2 = `http://127.0.0.1:${port}`;
            this.listening();
        });
        server.unref();
        Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDHARNESSSTANDIN", AWS_SECRET_ACCESS_KEY: "harness-stand-in", AWS_REGION: "us-east-1" });
        delete process.env.AWS_SESSION_TOKEN;
        delete process.env.AWS_PROFILE;
    }

    serve(harness: Harness, opts: AwsLookupOptions): void {
        this.current = { harness, opts };
        this.fixed = undefined;
    }

    /**
     * Answers for these instances (ID → console text) instead of a harness's: for programs the real
     * engine runs. `notFoundFirst` (ID → count): that many first calls answer
     * `InvalidInstanceID.NotFound`, as EC2 may for an instance launched a moment ago.
     */
    serveFixed(consoles: Record<string, string>, notFoundFirst: Record<string, number> = {}): void {
        this.current = undefined;
        this.fixed = consoles;
        this.notFound = { ...notFoundFirst };
    }

    private answer(params: URLSearchParams, res: http.ServerResponse): void {
        const action = params.get("Action");
        const instanceId = params.get("InstanceId") ?? "";
        if (action !== "GetConsoleOutput") return this.error(res, 400, "InvalidAction", `The action ${action} is not valid for this web service.`);
        this.calls.push({ instanceId, latest: params.get("Latest") === "true" });
        if (this.fixed !== undefined) {
            const text = this.fixed[instanceId];
            const notYet = (this.notFound[instanceId] ?? 0) > 0;
            if (notYet) this.notFound[instanceId]--;
            if (text === undefined || notYet) return this.error(res, 400, "InvalidInstanceID.NotFound", `The instance ID '${instanceId}' does not exist`);
            return this.output(res, instanceId, text);
        }
        const instance = this.current?.harness.ofType("aws:ec2/instance:Instance").find((r) => r.id === instanceId);
        if (instance === undefined) return this.error(res, 400, "InvalidInstanceID.NotFound", `The instance ID '${instanceId}' does not exist`);
        const opts = this.current!.opts;
        const address = String(instance.state.publicIp || instance.state.privateIp || "");
        const text = opts.console
            ? opts.console(instance)
            : consoleText(instance, (opts.knownHosts && knownHostKey(opts.knownHosts, address)) || madeUpHostKey(instance.name));
        this.output(res, instanceId, text);
    }

    private output(res: http.ServerResponse, instanceId: string, text: string | undefined): void {
        res.writeHead(200, { "Content-Type": "text/xml;charset=UTF-8" });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>
<GetConsoleOutputResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>harness-${this.calls.length}</requestId>
    <instanceId>${instanceId}</instanceId>
    <timestamp>${new Date().toISOString()}</timestamp>
    ${text === undefined ? "" : `<output>${Buffer.from(text).toString("base64")}</output>`}
</GetConsoleOutputResponse>`);
    }

    private error(res: http.ServerResponse, status: number, code: string, message: string): void {
        res.writeHead(status, { "Content-Type": "text/xml;charset=UTF-8" });
        res.end(
            `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>harness</RequestID></Response>`,
        );
    }
}

/** The stand-in EC2 API of this test process. */
export const ec2Api = new StandInEc2Api();

/**
 * Stand-ins for what an Ec2BuilderNode's children return when nothing runs (unit tests): an
 * instance address, the readiness check's result line `readyOut`, and made-up PEMs from the
 * tls resources (the real ones are exercised end to end in test/integration/ec2-node.test.ts).
 */
export function answerEc2NodeStandIns(harness: Harness, readyOut: string): void {
    harness.override("aws:ec2/instance:Instance", () => ({ publicIp: "198.51.100.7", privateIp: "10.0.0.7" }));
    harness.override("command:remote:Command", () => ({ stdout: readyOut }));
    const pem = (kind: string, body: string) => `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
    harness.override("tls:index/privateKey:PrivateKey", (a) => ({ privateKeyPem: pem("EC PRIVATE KEY", `UNIT-TEST-TLS-KEY-${a.name}`) }));
    harness.override("tls:index/selfSignedCert:SelfSignedCert", (a) => ({ certPem: pem("CERTIFICATE", a.name) }));
    harness.override("tls:index/certRequest:CertRequest", (a) => ({ certRequestPem: pem("CERTIFICATE REQUEST", a.name) }));
    harness.override("tls:index/locallySignedCert:LocallySignedCert", (a) => ({ certPem: pem("CERTIFICATE", a.name) }));
}
