/**
 * `pulumi-buildx/aws`: native builder nodes on AWS EC2. Needs the optional peer dependencies
 * `@pulumi/aws` and `@pulumi/tls` (`npm install @pulumi/aws @pulumi/tls`); the package root
 * loads neither.
 *
 * @packageDocumentation
 */
export { Ec2BuilderNode } from "./nodes/ec2/component";
export { Ec2BuilderNodeArgs, Ec2NodeArch, Ec2NodeTransport } from "./nodes/ec2/args";
