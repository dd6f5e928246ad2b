"""Every user-facing message in one table, so views, API and tests use the same words."""

# Sign-in
LOGIN_FAILED = "Invalid email or password."
LOGIN_REQUIRED = "Please sign in to continue."
LOGGED_OUT = "You have been signed out."
SESSION_ENDED = "Your session has ended. Please sign in again."
RATE_LIMITED = "Too many attempts. Please wait a moment and try again."
LEGACY_LOGIN_MOVED = "Sign-in now uses your email address and password."

# Registration
REGISTRATION_EMAIL_SENT = (
    "If your details match the authorization list, we have emailed you a link to finish "
    "registering. Check your inbox (and spam folder)."
)
REGISTRATION_NOT_FOUND = "We could not match those details to the authorization list."
REGISTRATION_EXPIRED = "Your registration has expired. Please start again."
REGISTRATION_DONE = "Your account is ready. Welcome!"
ACCOUNT_EXISTS = "An account already exists for this email. Sign in or reset your password."

# Passwords
RESET_EMAIL_SENT = (
    "If an account exists for that email, we have sent a link to reset the password. "
    "The link is valid for one hour."
)
SETUP_EMAIL_SENT = (
    "If your details match an account that still needs a password, we have emailed you a "
    "link to set it. The link is valid for 24 hours."
)
LINK_INVALID = "This link is invalid, has expired or has already been used. Request a new one."
PASSWORD_SET = "Your password has been set. You are now signed in."
PASSWORD_RESET_DONE = "Your password has been reset. You are now signed in."
PASSWORD_CHANGED = "Your password has been changed. Other devices have been signed out."
CURRENT_PASSWORD_WRONG = "Your current password is not correct."
PASSWORD_MISMATCH = "The passwords do not match."
PASSWORD_TOO_SHORT = "Use at least {n} characters."
PASSWORD_TOO_LONG = "Use at most {n} characters."
PASSWORD_NEEDS_CLASSES = "Use upper-case and lower-case letters and a digit."
PASSWORD_TOO_WEAK = "This password is too easy to guess."
PASSWORD_REUSED = "Choose a password you have not used recently."

# Account and sessions
PROFILE_UPDATED = "Your profile has been updated."
SESSION_REVOKED = "That device has been signed out."
OTHER_SESSIONS_REVOKED = "All your other devices have been signed out."
NO_PROGRAMS = "No programs are assigned to your account yet. Contact your administrator."
PROGRAM_FORBIDDEN = "You are not authorized for this program."

# Forms and errors
FIELD_REQUIRED = "This field is required."
EMAIL_INVALID = "Enter a valid email address."
FIELD_TOO_LONG = "This value is too long."
CSRF_FAILED = "Your form expired or was sent from another site. Please try again."
BAD_REQUEST = "The request could not be understood."
FORBIDDEN = "You do not have access to this page."
NOT_FOUND = "This page does not exist."
TOO_LARGE = "The request is too large."
SERVER_ERROR = "Something went wrong on our side. Please try again."
UNAVAILABLE = "The service is temporarily unavailable. Please try again shortly."
