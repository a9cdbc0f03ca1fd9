const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push((i + 0x100).toString(16).slice(1));

function randomBytes(bytes: Uint8Array): void {
  if (typeof crypto !== 'undefined' && crypto.getRandomValues) {
    crypto.getRandomValues(bytes);
  } else {
    // Very old or unusual environments: ids still need to be unique, not secret.
    for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.random() * 256) | 0;
  }
}

/**
 * A UUID version 7: 48 bits of Unix milliseconds, then random bits. Time
 * ordering keeps ids of one session close together in the server's indexes,
 * and 74 random bits keep ids unique across clients without coordination.
 */
export function uuidv7(now: number = Date.now()): string {
  const b = new Uint8Array(16);
  randomBytes(b);
  let t = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = (i: number) => HEX[b[i]];
  return (
    h(0) + h(1) + h(2) + h(3) + '-' + h(4) + h(5) + '-' + h(6) + h(7) + '-' + h(8) + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  );
}
