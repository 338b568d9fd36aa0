export { Harness, HarnessSequence, RecordedResource, LogLine, unwrap, settled, CommandFailed } from "./harness";
export { runProgram, ProgramResult } from "./program";

export { loadTestEnv, TestEnv, TestNode } from "./testenv";
export { loadS3, s3Keys, TestS3 } from "./s3";
export { RegistryClient, fileInTar } from "./registry";
export { installTlsProvider, TLS_TYPES } from "./tls-provider";
export { answerAwsLookups, answerEc2NodeStandIns, AwsLookupOptions, ConsoleOf, consoleText, ec2Api, Invoke, madeUpHostKey } from "./aws";
