/**
 * Input a person typed or wrote that Warden cannot use: a command's
 * arguments, a duration, a member named by a username never seen. The message
 * is one line that says what to write instead; it is shown as it is, where a
 * failure of Warden itself is reported as a failure.
 */
export class UsageError extends Error {
  override name = "UsageError";
}
