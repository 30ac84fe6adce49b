// One order for names everywhere (build, validate, diff, the fleet's generated files), so that
// their listings agree.

/** `site-2` before `site-10`: digit runs compare as numbers, the rest as text. */
export function naturalCompare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const byValue = Number(BigInt(x) - BigInt(y));
      if (byValue !== 0) return byValue < 0 ? -1 : 1;
      return x.length - y.length; // 07 after 7
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
