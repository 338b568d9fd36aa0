export { Harness, HarnessSequence, RecordedResource, LogLine, unwrap, settled, CommandFailed } from "./harness";
export { runProgram, ProgramResult } from "./program";

export { loadTestEnv, TestEnv, TestNode } from "./testenv";
export { RegistryClient, fileInTar } from "./registry";
export { installTlsProvider, TLS_TYPES } from "./tls-provider";
export { answerAwsLookups, answerEc2NodeStandIns, AwsLookupOptions, ConsoleOf, consoleText, ec2Api, Invoke, madeUpHostKey } from "./aws";
