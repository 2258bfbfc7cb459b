/**
 * The shop's one catalogue of error codes. Every error a client sees carries one of these codes;
 * README.md lists them with what to do.
 */
export const SHOP_ERRORS = {
  SHOP_CONFIG_INVALID: { status: 500, message: 'configuration is invalid' },
  SHOP_BAD_REQUEST: { status: 400, message: 'request body or parameters are invalid' },
  SHOP_NOT_LOGGED_IN: { status: 401, message: 'log in first' },
  SHOP_SESSION_MISSING: { status: 401, message: 'the session this cookie names is gone' },
  SHOP_BAD_CREDENTIALS: { status: 401, message: 'unknown user or wrong password' },
  SHOP_UNKNOWN_SKU: { status: 404, message: 'no product has this sku' },
  SHOP_CART_EMPTY: { status: 409, message: 'the cart is empty' },
  SHOP_OUT_OF_STOCK: { status: 409, message: 'not enough stock' },
  SHOP_ORDER_IN_PROGRESS: { status: 409, message: 'a checkout is already in progress' },
  SHOP_NO_PENDING_ORDER: { status: 409, message: 'no checkout in progress' },
  SHOP_ORDER_NOT_PAYABLE: { status: 409, message: 'the order is no longer pending' },
  SHOP_ORDER_NOT_PAID: { status: 409, message: 'the order is not paid' },
  SHOP_SESSION_CONFLICT: { status: 409, message: 'the session changed in another request; reload and retry' },
  SHOP_IDEMPOTENCY_CONFLICT: { status: 409, message: 'this idempotency key was used for another order' },
  SHOP_SESSION_STORE_UNAVAILABLE: { status: 503, message: 'the session store is unavailable' },
  SHOP_DATABASE_UNAVAILABLE: { status: 503, message: 'the database is unavailable' },
} as const;

/** A code from {@link SHOP_ERRORS}. */
export type ShopErrorCode = keyof typeof SHOP_ERRORS;

/** An error with a stable code and the HTTP status it maps to. */
export class ShopError extends Error {
  readonly code: ShopErrorCode;
  readonly statusCode: number;
  constructor(code: ShopErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${SHOP_ERRORS[code].message}: ${detail}` : SHOP_ERRORS[code].message, options);
    this.name = 'ShopError';
    this.code = code;
    this.statusCode = SHOP_ERRORS[code].status;
  }
}
