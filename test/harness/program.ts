import { Harness, settled } from "./harness";

export interface ProgramResult<T> {
    /** What the program returned. */
    result: T | undefined;
    /** Errors thrown by the program or raised by failed registrations (which Pulumi reports as unhandled rejections). */
    errors: Error[];
}

/**
 * Runs a Pulumi program against an installed harness and waits for every registration to finish.
 * Under mocks a failed registration surfaces as an unhandled rejection, not as a thrown error at
 * the `new` call; the harness collects those and they are returned here with the rest.
 */
export async function runProgram<T>(harness: Harness, program: () => T | Promise<T>): Promise<ProgramResult<T>> {
    const errors: Error[] = [];
    let result: T | undefined;
    try {
        result = await program();
        const done = { settled: false };
        await Promise.race([settled().finally(() => (done.settled = true)), quietAfterFailure(harness, done)]);
        done.settled = true;
        // Let rejections that were queued during the last registration reach the handler.
        await new Promise((r) => setImmediate(r));
    } catch (err) {
        errors.push(err as Error);
    }
    for (const f of [...harness.rejections, ...harness.failures]) {
        if (!errors.some((e) => e.message.includes(f.message))) errors.push(f);
    }
    return { result, errors };
}

/**
 * After a failed registration the Pulumi runtime can leave RPCs pending forever (outputs that
 * depended on the failed resource never settle); the real engine would end the program there.
 * Resolves once something has failed and no registration has run for a moment.
 */
async function quietAfterFailure(harness: Harness, done: { settled: boolean }, quietMs = 1000): Promise<void> {
    while (!done.settled) {
        await new Promise((r) => setTimeout(r, 100));
        const failed = harness.failures.length > 0 || harness.rejections.length > 0;
        if (failed && harness.inFlight === 0 && Date.now() - harness.lastActivity > quietMs) return;
    }
}
