<?php ldap();
