/**
 * OpenSSH's percent_expand() (misc.c): each `%x` becomes `values[x]`, `%%` a `%`. No `${VAR}`
 * (a shell that runs the result does that). An unknown `%x`, or a `%` that ends the text (key
 * ''), goes to `fail`, which throws the caller's own error.
 *
 * @example percentExpand('ssh -W %h:%p gw', { h: 'node7', p: '22' }, fail) // 'ssh -W node7:22 gw'
 */
export function percentExpand(
  text: string,
  values: Readonly<Record<string, string>>,
  fail: (key: string) => never,
): string {
  return text.replace(/%(.?)/gs, (_whole, key: string) => (key === '%' ? '%' : (values[key] ?? fail(key))));
}
