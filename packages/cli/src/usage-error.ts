/** A command line or configuration the user must fix: commands report it and exit 2 (`EXIT.usage`). */
export class UsageError extends Error {}
