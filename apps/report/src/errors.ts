/** Bad input to the report: the message is one line naming the source, the field and the reason. */
export class ReportError extends Error {
  override name = 'ReportError';
}
