/**
 * A UUID version 7: 48 bits of Unix milliseconds, then random bits. Time
 * ordering keeps ids of one session close together in the server's indexes,
 * and 74 random bits keep ids unique across clients without coordination.
 */
export declare function uuidv7(now?: number): string;
