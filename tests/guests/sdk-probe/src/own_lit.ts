// A function of the user's own that happens to be called `lit`: the build's literal rewrite
// (transform/literals.js) must leave its calls alone, since it is not the SDK's lit.
function lit(text: string): string {
  return "own " + text;
}

/** What the probe's /own-lit route answers. */
export function ownLit(): string {
  return lit("lit, not rewritten");
}
