/**
 * rabbitmqctl 3.10.8's refusals for missing vhosts and users, worded and coded as it prints them
 * (checked command by command on the reference node): it is not consistent from command to
 * command, so each command names the variant it prints.
 */
import { CtlError, Exit } from './client.js';

/** list_permissions, list_policies, set_vhost_limits, delete_vhost…: exit 65, no "Error:" line. */
export const vhostDoesNotExist = (vhost: string) => new CtlError(`Virtual host '${vhost}' does not exist`, Exit.DATAERR, true);

/** set_permissions, clear_permissions, set_topic_permissions…: exit 69. */
export const vhostNotFound = (vhost: string) => new CtlError(`Virtual host ${vhost} does not exist`, Exit.UNAVAILABLE);

/** delete_user, change_password, set_user_tags: exit 67, the name quoted. */
export const userDoesNotExist = (user: string) => new CtlError(`User "${user}" does not exist`, Exit.NOUSER);

/** set_permissions, clear_permissions, set_topic_permissions…: exit 67, the name bare. */
export const userNotFound = (user: string) => new CtlError(`User ${user} does not exist`, Exit.NOUSER);

/** list_user_permissions, set_user_limits, list_user_limits…: exit 69 with the Elixir term. */
export const noSuchUser = (user: string) => new CtlError(`{:no_such_user, ${JSON.stringify(user)}}`, Exit.UNAVAILABLE);
