/**
 * Engine test program: the piece of Ec2BuilderNode that reads an instance's SSH host key from its
 * EC2 console (through the stand-in EC2 API the test runs, AWS_ENDPOINT_URL_EC2) once per
 * instance and keeps it in the state. Configuration (set by the test):
 *   instanceId  the instance whose console is read
 */
import * as pulumi from "@pulumi/pulumi";
import { storedHostKey } from "../../../../src/nodes/ec2/host-key-resource";

class Node extends pulumi.ComponentResource {
    readonly hostKey: pulumi.Output<string>;
    constructor(name: string, instanceId: string) {
        super("test:index:Node", name);
        this.hostKey = storedHostKey(name, { instanceId, region: "us-east-1", nodeName: name, timeoutMinutes: 1, createTimeout: "2m" }, this).hostKey;
        this.registerOutputs({ hostKey: this.hostKey });
    }
}

const node = new Node("node", new pulumi.Config().require("instanceId"));
export const hostKey = node.hostKey;
