/** Placeholder until the admin script lands. */
export const RABBITMQADMIN_PY = '#!/usr/bin/env python3\n';
