/**
 * `pulumi-buildx/aws`: native builder nodes on AWS EC2, and `ec2BuilderProgram` (their program for
 * `withEphemeralBuilder`). Needs the optional peer dependencies
 * `@pulumi/aws` and `@pulumi/tls` (`npm install @pulumi/aws @pulumi/tls`); the package root
 * loads neither.
 *
 * @packageDocumentation
 */
export { Ec2BuilderNode } from "./nodes/ec2/component";
export { Ec2BuilderNodeArgs, Ec2NodeArch, Ec2NodeTransport } from "./nodes/ec2/args";
export { ec2BuilderProgram, Ec2BuilderProgramArgs, EPHEMERAL_TTL_MINUTES } from "./nodes/ec2/program";
