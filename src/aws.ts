/**
 * `pulumi-buildx/aws`: native builder nodes on AWS EC2, and `ec2BuilderProgram` (their program for
 * `withEphemeralBuilder`). Needs the optional peer dependencies `@pulumi/aws`, `@pulumi/tls` and
 * `@aws-sdk/client-ec2` (`npm install @pulumi/aws @pulumi/tls @aws-sdk/client-ec2`): the last
 * one reads each node's SSH host key from its EC2 console during `up`, in a child process, so
 * a missing one fails there, not at import. The package root loads none of them.
 *
 * @packageDocumentation
 */
import { requirePeers } from "./peers";

// Before anything below loads them: a missing peer is named, with the command that installs it.
requirePeers("pulumi-buildx/aws", ["@pulumi/aws", "@pulumi/tls"], ["@pulumi/aws", "@pulumi/tls", "@aws-sdk/client-ec2"]);

export { Ec2BuilderNode } from "./nodes/ec2/component";
export { Ec2BuilderNodeArgs, Ec2NodeArch, Ec2NodeTransport } from "./nodes/ec2/args";
export { ec2BuilderProgram, Ec2BuilderProgramArgs, EPHEMERAL_TTL_MINUTES } from "./nodes/ec2/program";
