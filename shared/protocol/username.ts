// Usernames: NFKC, case-folded, 3-32 of a-z 0-9 _ . — one canonical form so look-alikes collide.
export const USERNAME_PATTERN = /^[a-z0-9_.]{3,32}$/;

export function canonicalUsername(input: string): string {
  return input.normalize('NFKC').toLowerCase().normalize('NFKC').trim();
}

export function isValidUsername(canonical: string): boolean {
  return USERNAME_PATTERN.test(canonical);
}
