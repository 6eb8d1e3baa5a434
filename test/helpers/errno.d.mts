/** An Error shaped like the one Node's fs raises for `code`, for injection. */
export declare function errnoError(code: string, op: string, path: string): NodeJS.ErrnoException;
