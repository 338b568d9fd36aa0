/**
 * Engine test program: Binfmt with `uninstallOnDelete`, so `pulumi destroy` removes exactly the
 * emulators that `up` added. Configuration (set by the test):
 *   platforms  comma-separated platforms
 *   image      the installer image (a local one with tonistiigi/binfmt's command line)
 */
import * as pulumi from "@pulumi/pulumi";
import { Binfmt } from "../../../../src";

const config = new pulumi.Config();
const emulators = new Binfmt("emulators", {
    platforms: config.require("platforms").split(","),
    image: config.require("image"),
    uninstallOnDelete: true,
});

export const emulatorNames = emulators.emulators;
export const platforms = emulators.platforms;
