/**
 * Engine test program: the piece of Ec2BuilderNode that reads an instance's SSH host key from its
 * EC2 console (through the stand-in EC2 API the test runs, AWS_ENDPOINT_URL_EC2) once per
 * instance and keeps it in the state. Configuration (set by the test):
 *   instanceId      the instance whose console is read
 *   timeoutMinutes  how long the reader waits (default 1): part of the reader's environment
 */
import * as pulumi from "@pulumi/pulumi";
import { storedHostKey } from "../../../../src/nodes/ec2/host-key-resource";

class Node extends pulumi.ComponentResource {
    readonly hostKey: pulumi.Output<string>;
    constructor(name: string, instanceId: string, timeoutMinutes: number) {
        super("test:index:Node", name);
        this.hostKey = storedHostKey(name, { instanceId, region: "us-east-1", nodeName: name, timeoutMinutes, createTimeout: "2m" }, this).hostKey;
        this.registerOutputs({ hostKey: this.hostKey });
    }
}

const config = new pulumi.Config();
const node = new Node("node", config.require("instanceId"), config.getNumber("timeoutMinutes") ?? 1);
export const hostKey = node.hostKey;
