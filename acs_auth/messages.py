"""Every user-facing message in one table, so views, API and tests use the same words."""

# Sign-in
LOGIN_FAILED = "Invalid email or password."
SECOND_FACTOR_REQUIRED = "Your password is right; confirm the sign-in with your second factor."
MFA_API_PASSKEY_ONLY = (
    "Your password is right, but your second factor is a passkey, which only a browser can use. "
    "Sign in on the web and create an API key on your account page."
)
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
    "If an account exists for that email or username, we have sent a link to reset the "
    "password to the email address of the account. "
    "The link is valid for one hour."
)
SETUP_EMAIL_SENT = (
    "If your details match an account that still needs a password, we have emailed you a "
    "link to set it. The link is valid for 24 hours."
)
LINK_INVALID = "This link is invalid, has expired or has already been used. Request a new one."
PASSWORD_SET = "Your password has been set. You are now signed in."
PASSWORD_RESET_DONE = "Your password has been reset. Sign in with your new password."
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

# Sign-in pages (A1)
METHOD_NOT_ALLOWED = "This page cannot be used that way."
USERNAME_INVALID = (
    "Use 3 to 64 letters, digits, dots, hyphens or underscores, starting with a letter or digit."
)
USERNAME_TAKEN = "This username is already taken."
FIELD_INVALID_CHARACTERS = "This value contains characters that are not allowed."

# Registration and passwords (A2)
PASSWORD_PERSONAL = "Do not build the password from your name or email address."
PASSWORD_INVALID_CHARACTERS = "The password contains characters that cannot be used."
REGISTRATION_START_AGAIN = "Please enter your last name and email address to register."

# Command line and operations (set-up/CLI)
CLI_ACCOUNT_EXISTS = "An account already exists for {email}."
CLI_NO_ACCOUNT = "No account has the email {email}."
CLI_ADMIN_CREATED = "Administrator {email} created."
CLI_PASSWORD_ONCE = "Password (shown only this once; store it safely): {password}"
CLI_USER_CREATED = "User {email} created with role {role}; the password setup email is queued."
CLI_MAIL_SENT_NOW = "Mail delivery: {sent} sent, {failed} failed (failed mail stays queued)."
CLI_UNLOCKED = "{email} is unlocked; failed sign-ins were reset."
CLI_MAIL_COUNTS = "Sent {sent}, failed {failed}; {pending} still queued."
CLI_WORKER_STARTED = "Mail worker started (every {interval:g} s); stop with Ctrl-C or SIGTERM."
CLI_WORKER_STOPPED = "Mail worker stopped."
CLI_WORKER_OUTAGE = "The outbox could not be read; see the log above. Nothing was lost."
CLI_CLEANUP_DONE = (
    "Removed {sessions} ended sessions and {mail} sent emails older than {days} days."
)
CLI_SEED_IMPORTED = (
    "Demo allowlist: {added} added, {changed} changed, {unchanged} unchanged, {removed} removed."
)
CLI_SEED_IMPORT_FAILED = "The demo allowlist was not imported:"
CLI_SEED_ADMIN_EXISTS = (
    "Demo administrator {email} already exists; its password is not shown again "
    "(use Forgot password, or create another administrator with `flask users create-admin`)."
)
CLI_SEED_PRODUCTION = "seed-demo adds a demo administrator and refuses to run in production."

# Admin console and allowlist (issue 3)
CSV_EMPTY = "The file is empty."
CSV_TOO_LARGE = "The file is larger than the limit of {limit}."
CSV_TOO_MANY_ROWS = "The file has more than {limit} rows (the limit is ALLOWLIST_MAX_ROWS)."
CSV_BAD_ENCODING = "The file is neither UTF-8 nor Windows-1252 text. Save it as “CSV UTF-8”."
CSV_MISSING_COLUMNS = (
    "Missing required column(s): {columns}. The first row must name the columns "
    "last_name, email and lo_root_ids (first_name is optional)."
)
CSV_DUPLICATE_COLUMN = "The columns “{first}” and “{second}” both mean {field}."
CSV_MALFORMED = "The file is not valid CSV near line {line}: {reason}."
CSV_ROW_LAST_NAME_EMPTY = "The last name is empty."
CSV_ROW_TOO_LONG = "The {field} is longer than {limit} characters."
CSV_ROW_CONTROL = "The {field} contains control characters."
CSV_ROW_EMAIL_EMPTY = "The email is empty."
CSV_ROW_EMAIL_INVALID = "“{value}” is not a valid email address."
CSV_ROW_NO_IDS = "No LO Root ID is given."
CSV_ROW_BAD_ID = "“{value}” is not a valid LO Root ID (letters, digits and . _ : -, at most 64)."
CSV_ROW_TOO_MANY_IDS = "More than {limit} LO Root IDs are given."
CSV_ROW_NAME_CONFLICT = "{email} has the last name “{name}” here but “{other}” on line {line}."
ADMIN_SELF_LOCKOUT = "This change would leave you, or the portal, without an active administrator."
ADMIN_SELF_DELETE = "You cannot delete your own account or the last active administrator."
ADMIN_SETUP_NOT_NEEDED = (
    "This account already has a password; the person can use “Forgot password” instead."
)
ADMIN_ACCOUNT_INACTIVE = "This account is deactivated; activate it first."

# JSON API (issue 4)
API_AUTH_REQUIRED = (
    "Authentication is required: send an access token as `Authorization: Bearer <token>` or "
    "an API key in `X-API-Key`. The credential may be missing, invalid, expired or revoked."
)
API_TOKEN_INVALID = "The token is invalid, expired, or its session has ended."
API_REFRESH_INVALID = "The refresh token is invalid, expired or has already been used."
API_KEY_NOT_ALLOWED = "An API key cannot do this; sign in and use an access token."
API_KEY_READ_ONLY = "This API key is read-only."
API_ADMIN_ONLY = "This requires the admin role."
API_CREDENTIALS_IN_URL = "Credentials are never accepted in the URL; send them in a header."
API_JSON_REQUIRED = "Send the request body as JSON (Content-Type: application/json)."
API_MALFORMED_JSON = "The request body is not valid JSON."
API_BODY_NOT_OBJECT = "The request body must be a JSON object."
API_VALIDATION_FAILED = "Some fields are missing or invalid."
API_FIELD_UNKNOWN = "This field is not accepted. The fields of this request are: {fields}."
API_FIELD_TYPE = "Expected {kind}."
API_FIELD_TOO_SHORT = "This value is too short."
API_FIELD_CHOICE = "Expected one of: {choices}."
API_FIELD_FORMAT = "This value does not have the expected format."
API_FIELD_RANGE = "Expected a number from {low} to {high}."
API_FIELD_TOO_MANY = "At most {n} items are accepted."
API_LOGIN_IDENTIFIER = "Send either an email or a username (not both)."
API_NOT_FOUND = "There is no such resource."
API_METHOD_NOT_ALLOWED = "This method is not allowed here."
API_USER_NOT_FOUND = "There is no such user."
API_SESSION_NOT_FOUND = "There is no such session."
API_KEY_NOT_FOUND = "There is no such API key."
API_TOO_MANY_KEYS = "You have too many active API keys; revoke one first."
API_SELF_CHANGE = "You cannot change your own role or deactivate your own account."
API_CSV_REQUIRED = "Send the allowlist as a text/csv body or as a multipart form field named file."
API_CSV_FILE_MISSING = "The multipart form has no field named file holding the CSV."
API_ALLOWLIST_INVALID = "The file has errors; nothing was applied."
ADMIN_CONFIRM_REQUIRED = "Tick the box to confirm."
ADMIN_FILE_REQUIRED = "Choose a CSV file to upload."
ADMIN_PROGRAMS_INVALID = "“{value}” is not a valid LO Root ID (letters, digits and . _ : -)."
ADMIN_PROGRAMS_TOO_MANY = "Give at most {limit} LO Root IDs."
ADMIN_ROLE_INVALID = "Choose one of the roles listed."
ADMIN_DATE_RANGE = "The start date must not be after the end date."
ADMIN_USER_CREATED = "Account created for {email}; the password setup email is on its way."
ADMIN_USER_UPDATED = "The account has been updated."
ADMIN_USER_UNCHANGED = "Nothing was changed."
ADMIN_USER_UNLOCKED = "The account is unlocked."
ADMIN_USER_SIGNED_OUT = "Signed out everywhere: {count} session(s) ended and every API key revoked."
ADMIN_SETUP_SENT = "A new password setup email is on its way."
ADMIN_USER_DELETED = "The account {email} has been deleted."
ADMIN_UPLOAD_EXPIRED = (
    "That upload has expired or was already applied. Please upload the file again."
)
ADMIN_PREVIEW_OUTDATED = (
    "The allowlist changed since this preview was made. "
    "Review the updated preview and confirm again."
)
ADMIN_IMPORT_HAS_ERRORS = (
    "Some rows are invalid. Fix the file and upload it again, or tick the box to skip them."
)
ADMIN_IMPORT_MASS_REMOVAL = (
    "This import removes {count} of {total} entries ({percent}), more than the {limit} allowed "
    "without confirmation. Tick the box to confirm the removal."
)
ADMIN_IMPORT_DONE = (
    "Import applied: {added} added, {changed} changed, {unchanged} unchanged, {removed} removed."
)
ADMIN_IMPORT_NOTHING = "The file matches the allowlist: nothing to change."
ADMIN_UPLOAD_DISCARDED = "The upload has been discarded; nothing was changed."
ADMIN_INVITED = "{sent} invitation(s) queued; {skipped} skipped (registered or invited recently)."
ADMIN_INVITED_REMAINING = (
    "{remaining} more people are waiting for an invitation; send the next batch."
)
ADMIN_INVITE_NONE_SELECTED = "Select at least one entry, or choose “everyone not registered”."
ADMIN_ENTRY_REMOVED = "{email} was removed from the allowlist; {closed} account(s) deactivated."
ADMIN_ENTRY_RESTORED = "{email} is back on the allowlist; {opened} account(s) reactivated."
ADMIN_ACCOUNT_EXISTS = "An account with this email already exists."
CLI_ALLOWLIST_REJECTED = "The file was not imported: {reason}"
CLI_ALLOWLIST_PREVIEW = (
    "{file}: {rows} data rows ({mode} mode). To add: {added}, to change: {changed}, "
    "unchanged: {unchanged}, to remove: {removed}, invalid rows: {errors}."
)
CLI_ALLOWLIST_DRY_RUN = "Dry run: nothing was changed."
CLI_ALLOWLIST_BLOCKED_ERRORS = (
    "Nothing was imported because {count} row(s) are invalid. Fix them, or run again with "
    "--skip-invalid to import the valid rows only."
)
CLI_ALLOWLIST_BLOCKED_REMOVAL = (
    "Nothing was imported: this replace removes {count} of {total} entries ({percent}), more "
    "than ALLOWLIST_MAX_REMOVAL_FRACTION ({limit}). Run again with --yes-remove-many to confirm."
)
CLI_ALLOWLIST_APPLIED = (
    "Imported: {added} added, {changed} changed, {unchanged} unchanged, {removed} removed, "
    "{skipped} invalid row(s) skipped."
)
CLI_ALLOWLIST_INVITED = "Invitations queued: {sent} ({skipped} skipped)."
CLI_ALLOWLIST_EXPORTED = "Exported {count} entries to {file}."

# JSON API (issue 4, continued)
API_ALLOWLIST_MASS_REMOVAL = (
    "This import removes {count} of {total} entries, more than the {limit:.0%} allowed without "
    "confirmation; send confirm_mass_removal=true to apply it."
)
ADMIN_CHOICE_INVALID = "Choose one of the options listed."
ADMIN_DATE_INVALID = "Enter a date as YYYY-MM-DD."
CLI_ALLOWLIST_CONFLICT = (
    "Nothing was imported: another import changed the allowlist at the same time. Run again."
)

# API keys as credentials of the account (issue 12, item 2)
API_KEY_PASSWORD_WRONG = "The current password is wrong; no key was created."
API_KEY_SCOPE_REFUSED = "Only an administrator can create a key with the admin scope."
API_KEY_NOT_ADMIN = "This API key cannot reach the admin API; it needs the admin scope."
API_KEY_EXPIRY_TOO_LONG = "A key can live at most {days} days."
API_KEY_REVOKED = "The API key {prefix}… has been revoked."
ADMIN_API_KEY_REVOKED = "The API key {prefix}… has been revoked."

# Operators (issue 12): why `flask mail send-pending` sent nothing, or where mail went
MAIL_NO_SERVER = "no mail server configured (MAIL_SERVER)"
CLI_MAIL_TO_CONSOLE = (
    "No mail server configured (MAIL_SERVER): messages are printed here and saved under "
    "instance/outbox/ (the console backend), not delivered."
)
CLI_MAIL_NOTHING_QUEUED = "Nothing sent: the outbox holds no message waiting to be sent."
CLI_MAIL_NOTHING_DUE = (
    "Nothing sent: {pending} message(s) are not due yet (waiting for a retry, or being sent by "
    "another process); the next is due in {seconds:.0f} s. Last error: {error}"
)
CLI_MAIL_LAST_ERROR = "Not sent: {error}"
CLI_SEED_ALLOWLIST_KEPT = (
    "Demo allowlist: not imported again, the allowlist was imported into before (edits made "
    "since are kept). `flask seed-demo --force` (or `make seed`) merges the demo file anyway."
)

# Rate limits and re-authentication (issue 12, items 3 and 4)
SIGNED_OUT_AFTER_WRONG_PASSWORDS = (
    "Too many wrong passwords: you have been signed out. Sign in again later, or reset your "
    "password if you have forgotten it."
)

# Operations (issue 17)
CLI_DOCTOR_OK = "All checks passed."
CLI_DOCTOR_FAILED = "{count} check(s) failed."
ADMIN_DORMANT_DAYS = "Enter a number of days from 1 to 3650."

# Error pages that keep what was typed (expired form, rate limit)
RATE_LIMITED_WAIT = "Too many attempts. Please wait {wait} and try again."
WAIT_ONE_SECOND = "a second"
WAIT_SECONDS = "{n} seconds"
WAIT_ONE_MINUTE = "a minute"
WAIT_MINUTES = "{n} minutes"
WAIT_HOURS = "{n} hours"
WAIT_ONE_HOUR = "an hour"
KEPT_FORM_BACK = "Back to the form (what you typed is kept, except passwords)"

# People (issue 16): changing one's email address
EMAIL_CHANGE_SENT = (
    "We have emailed a confirmation link to {address}. Your address changes when you open it; "
    "until then, keep signing in with your current address."
)
EMAIL_CHANGE_SAME = "This is already your email address."
ADMIN_EMAIL_CHANGE_SAME = "This is already the person's email address."
# The same answer whether or not the address is in use (that mailbox gets "cannot be used").
ADMIN_EMAIL_CHANGE_SENT = (
    "An email is on its way to {address}. If the address can be used, it holds a confirmation "
    "link, and the account's address changes when the person opens it while signed in; until "
    "then it stays {email}."
)
ADMIN_EMAIL_CHANGE_NO_PASSWORD = (
    "This person has not set a password yet, so they cannot sign in to confirm a new address. "
    "Delete the account and add it again under the new address, or change it once they have "
    "a password."
)
ADMIN_EMAIL_CHANGE_SERVICE = (
    "A service account cannot confirm an address by link: create a new service account under "
    "the new address and move its API keys there."
)
EMAIL_CHANGE_DONE = "Your email address is now {address}. We have told your previous address."
EMAIL_CHANGE_LINK_INVALID = (
    "This confirmation link is invalid, expired or already used, or the address can no longer "
    "be used. Ask for a new link on your account page."
)

# Program catalogue (issue 14)
PROGRAM_URL_INVALID = "Give an absolute http:// or https:// address without a user name."
PROGRAM_NAME_INVALID = "Give the program a name of at most 200 characters."
PROGRAM_EXISTS = "A program with this LO Root ID already exists."
PROGRAM_NOT_FOUND = "There is no program with this LO Root ID."
PROGRAM_ACTIVE_INVALID = "The active column takes true or false."
PROGRAM_CSV_HEADER = "The file needs a header row with at least lo_root_id and name."
PROGRAM_CSV_TOO_MANY = "The file has more than {limit} programs."
PROGRAM_SAVED = "Program {lo_root_id} saved."
PROGRAM_DEACTIVATED = "Program {lo_root_id} deactivated."
PROGRAM_ACTIVATED = "Program {lo_root_id} activated."
PROGRAM_IMPORTED = "Programs imported: {added} added, {changed} changed, {unchanged} unchanged."
PROGRAM_IMPORT_ERRORS = "Nothing was imported: {count} rows are invalid."
PROGRAM_OPEN = "Open"
PROGRAMS_UNKNOWN = "Not in the program catalogue: {ids}."
PROGRAMS_UNKNOWN_WARNING = (
    "{count} LO Root IDs in this file are not in the program catalogue ({ids}). "
    "They can still be imported."
)
CLI_PROGRAMS_IMPORTED = "{added} added, {changed} changed, {unchanged} unchanged."
CLI_PROGRAMS_ERRORS = "Nothing imported: {count} invalid rows."
CLI_PROGRAMS_EXPORTED = "Wrote {count} programs to {file}."

# OpenID Connect provider (issue 14)
OIDC_BAD_REQUEST = "This sign-in request cannot be completed."
OIDC_NO_PROGRAM = (
    "{client} is only for people authorized for its programs, and your account has none of "
    "them. Contact your administrator if you think this is wrong."
)
OIDC_CONSENT_WITHDRAWN = "The app no longer has access to your account."
OIDC_SIGNED_OUT = "You have been signed out."
OIDC_URI_INVALID = "“{uri}” is not an absolute http(s) address without a fragment."
OIDC_REDIRECT_REQUIRED = "Give at least one redirect URI."
OIDC_CLIENT_SAVED = "Client saved."
OIDC_CLIENT_NOT_FOUND = "There is no client with this id."

# Admins (issue 16): a person's sessions, password reset, search, audit export, outbox
ADMIN_SESSION_REVOKED = "The session has been ended."
ADMIN_RESET_SENT = "A password reset email is on its way to {email}."
ADMIN_SETUP_RESENT = "This account has no password yet: a password setup email is on its way."
API_SESSION_NOT_FOUND = "No such live session for this account."
API_API_KEY_NOT_FOUND = "No such API key for this account."
ADMIN_USERS_FOUND = "{count} user(s) match."
ADMIN_USERS_TOTAL = "{count} user(s) in all."
CLI_AUDIT_PRUNED = "Removed {count} audit events older than {days} days (AUDIT_RETENTION_DAYS)."
ADMIN_MAIL_RETRIED = "The message will be sent again now."
ADMIN_SERVICE_NO_PASSWORD = "A service account has no password: give it API keys instead."
API_KEY_GUEST_REFUSED = "Guest accounts may not create API keys."
ADMIN_KEYS_FOR_SERVICE_ONLY = (
    "Only service accounts get API keys from an administrator; people create their own."
)
ADMIN_KEY_DAYS_INVALID = "Enter a whole number of days, 1 or more."

# Input hygiene (issue 12, items 6 and 7)
EMAIL_LOOKALIKE = (
    "Type the email address with plain characters: it contains look-alike characters (such as "
    "full-width letters, ligatures or the Kelvin sign) that could stand for another address."
)
FILE_NAME_INVALID = "The file name contains control characters; rename the file and try again."

# Second factor: policy, remembered browsers, admin tools (issue 15)
MFA_ENROL_REQUIRED = (
    "Your role requires a second factor. Set one up to continue; until then only this page "
    "and signing out are available."
)
API_MFA_ENROLMENT_REQUIRED = (
    "This account's role requires a second factor. Sign in to the portal in a browser and set "
    "one up on your account page; /api/admin answers once it is active."
)
REMEMBERED_BROWSER_REVOKED = "That browser will ask for your second factor again."
ADMIN_FACTORS_RESET = (
    "Second factors reset ({kinds}). {email} can sign in with their password and set up a new one."
)
ADMIN_FACTORS_NONE = "This person has no second factor to reset."
ADMIN_FACTORS_NOT_YOURS = "Change your own second factors on your account page."
CLI_ADMIN_MUST_ENROL = (
    "{email} sets up a second factor at the first sign-in, before anything else "
    "(MFA_REQUIRED_ROLES)."
)

# Second factor (issue 15): authenticator app, recovery codes, the second sign-in step
CLI_MFA_ROTATED = (
    "{moved} of {total} authenticator secret(s) encrypted again with the first "
    "MFA_ENCRYPTION_KEYS key; the others already were."
)
CLI_MFA_UNREADABLE = (
    "{count} secret(s) could not be decrypted with any MFA_ENCRYPTION_KEYS key and were left "
    "as they are: put the key they were written with back in the list, or those people enrol "
    "their authenticator again."
)
MFA_CODE_FORMAT = (
    "Type the 6 digits your authenticator app shows, or one of your recovery codes "
    "(16 letters and digits)."
)
MFA_TOTP_FORMAT = "Type the 6 digits your authenticator app shows."
MFA_CODE_WRONG = (
    "That code is not right, or was already used. Wait for the next code from your app."
)
MFA_TOTP_STARTED = "Scan the QR code (or type the key) into your authenticator app."
MFA_TOTP_ALREADY = "An authenticator app is already set up. Remove it first to set up another."
MFA_TOTP_NOT_STARTED = "Start again: choose “Set up an authenticator app”."
MFA_TOTP_ENABLED = (
    "Your authenticator app is set up: signing in now asks for a code from it. Keep your "
    "recovery codes somewhere safe."
)
MFA_TOTP_REMOVED = "The authenticator app was removed."
MFA_NOTHING_TO_REMOVE = "There is no authenticator app to remove."
MFA_CODES_NEED_FACTOR = "Set up an authenticator app first: recovery codes stand in for it."
MFA_CODES_REGENERATED = "New recovery codes: the earlier ones no longer work."
MFA_CODES_LOW = (
    "Only {count} recovery code(s) left. Make new ones on the two-step sign-in page before you "
    "run out."
)
MFA_DOWNLOAD_REFUSED = "Those codes cannot be downloaded: they are used or replaced."
MFA_PENDING_EXPIRED = "Sign in again: the sign-in waiting for your code expired or ended."
MFA_SIGN_IN_AGAIN = "Sign in again."
MFA_CANCELLED = "The sign-in was cancelled."
MFA_CHALLENGE_INVALID = (
    "This challenge cannot be used: it expired, was used, or the account changed. Sign in again."
)

# Passkeys (issue 15)
PASSKEY_CEREMONY_EXPIRED = "That passkey request has expired or was already used. Try again."
PASSKEY_REJECTED = "That passkey could not be verified. Try again, or use another way to sign in."
PASSKEY_ALREADY_REGISTERED = "This passkey is already registered."
PASSKEY_NAME_INVALID = "Give the passkey a name of 1 to 100 characters."
PASSKEY_ADDED = "Your passkey “{name}” was added."
PASSKEY_RENAMED = "The passkey is now called “{name}”."
PASSKEY_REMOVED = "The passkey “{name}” was removed: it no longer signs you in."
PASSKEY_NOT_FOUND = "There is no such passkey on your account."
PASSKEY_PASSWORD_WRONG = "The current password is wrong; no passkey was added."
PASSKEY_UNSUPPORTED = (
    "This browser cannot use passkeys (or JavaScript is off). Use a current browser, or sign in "
    "with your email and password."
)
PASSKEY_SIGN_IN_FAILED = "We could not sign you in with that passkey."
