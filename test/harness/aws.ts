import { Harness } from "./harness";

/** One recorded invoke. */
export interface Invoke {
    token: string;
    args: Record<string, any>;
}

/**
 * Answers the AWS look-ups an Ec2BuilderNode makes (AMI parameter, default VPC, zones offering the
 * type, default subnets, a subnet's VPC) with fixed, recognisable values, and records each call in
 * `invokes`. No AWS API is reachable from the tests; these answers stand in for a region whose
 * default VPC has subnets `subnet-aaa` and `subnet-bbb` in zones that offer every type.
 */
export function answerAwsLookups(harness: Harness, invokes: Invoke[] = []): Invoke[] {
    const answer = (token: string, fn: (args: Record<string, any>) => Record<string, any>) =>
        harness.overrideCall(token, (a) => {
            invokes.push({ token, args: a.inputs });
            return fn(a.inputs);
        });
    const ami = (name: string) => `ami-for-${String(name).split("-").pop()}`;
    answer("aws:ssm/getParameter:getParameter", (a) => ({ name: a.name, type: "String", value: ami(a.name), insecureValue: ami(a.name) }));
    answer("aws:ec2/getVpc:getVpc", () => ({ id: "vpc-default" }));
    answer("aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings", () => ({ locations: ["us-east-1b", "us-east-1a"], locationTypes: [], instanceTypes: [] }));
    answer("aws:ec2/getSubnets:getSubnets", () => ({ ids: ["subnet-bbb", "subnet-aaa"] }));
    answer("aws:ec2/getSubnet:getSubnet", (a) => ({ id: a.id, vpcId: `vpc-of-${a.id}` }));
    return invokes;
}
