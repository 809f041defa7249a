// Errors meant for a person: their messages are written for users and shown as they are (one line
// in the CLI, a notification in VS Code). Everything else is unexpected: reported as an internal
// error and logged in full. Callers decide by `instanceof UserError`, never by a list of classes.

export class UserError extends Error {}

/** A command or request given wrongly (the CLI prints its usage with it and exits with status 2). */
export class UsageError extends UserError {}
