/**
 * Which MultiPlatformImage instances end with a ref (they push, or export an OCI layout), known
 * at their construction: so that another image can refuse one as a named context at once. A
 * module-private registry, not a public field.
 */
const pinnable = new WeakMap<object, boolean>();

export function recordPinnable(image: object, hasRef: boolean): void {
    pinnable.set(image, hasRef);
}

/** False only for an image known to have no ref; undefined for anything else. */
export function isPinnable(image: object): boolean | undefined {
    return pinnable.get(image);
}
