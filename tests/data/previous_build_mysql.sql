CREATE TABLE `server_setting` (
  `key` varchar(64) NOT NULL,
  `value` varchar(255) NOT NULL,
  PRIMARY KEY (`key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `worker_lease` (
  `worker_id` int(11) NOT NULL,
  `holder` varchar(64) DEFAULT NULL,
  `expires_ms` bigint(20) NOT NULL,
  `last_ms` bigint(20) NOT NULL,
  PRIMARY KEY (`worker_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `service` (
  `id` bigint(20) NOT NULL,
  `est_duration` bigint(20) DEFAULT NULL,
  `disposition` bigint(20) DEFAULT NULL,
  `disposition_desc` varchar(64) DEFAULT NULL,
  `started_ms` bigint(20) NOT NULL,
  `start_context` text NOT NULL,
  `completed_ms` bigint(20) DEFAULT NULL,
  `end_context` text DEFAULT NULL,
  `customer_id` varchar(16) DEFAULT NULL,
  `contact_key` varchar(64) DEFAULT NULL,
  `service_type` bigint(20) NOT NULL,
  `last_state_id` int(11) NOT NULL DEFAULT 0,
  `last_task_id` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `service_customer_id_started_ms` (`customer_id`,`started_ms`),
  KEY `service_customer_id_completed_ms_started_ms` (`customer_id`,`completed_ms`,`started_ms`),
  KEY `service_contact_key_customer_id_started_ms` (`contact_key`,`customer_id`,`started_ms`),
  KEY `service_contact_key_customer_id_completed_ms_started_ms` (`contact_key`,`customer_id`,`completed_ms`,`started_ms`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `state` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `est_duration` bigint(20) DEFAULT NULL,
  `disposition` bigint(20) DEFAULT NULL,
  `disposition_desc` varchar(64) DEFAULT NULL,
  `started_ms` bigint(20) NOT NULL,
  `start_context` text NOT NULL,
  `completed_ms` bigint(20) DEFAULT NULL,
  `end_context` text DEFAULT NULL,
  `service_id` bigint(20) NOT NULL,
  `state_id` int(11) NOT NULL,
  `state_type` bigint(20) NOT NULL,
  `previous_state_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `state_service_id_state_id` (`service_id`,`state_id`),
  KEY `state_service_id` (`service_id`),
  CONSTRAINT `state_ibfk_1` FOREIGN KEY (`service_id`) REFERENCES `service` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `task` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `est_duration` bigint(20) DEFAULT NULL,
  `disposition` bigint(20) DEFAULT NULL,
  `disposition_desc` varchar(64) DEFAULT NULL,
  `started_ms` bigint(20) NOT NULL,
  `start_context` text NOT NULL,
  `completed_ms` bigint(20) DEFAULT NULL,
  `end_context` text DEFAULT NULL,
  `service_id` bigint(20) NOT NULL,
  `task_id` int(11) NOT NULL,
  `task_type` bigint(20) NOT NULL,
  `state_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `task_service_id_task_id` (`service_id`,`task_id`),
  KEY `task_service_id` (`service_id`),
  CONSTRAINT `task_ibfk_1` FOREIGN KEY (`service_id`) REFERENCES `service` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `extension_schema` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `kind` varchar(8) NOT NULL,
  `name` varchar(26) NOT NULL,
  `name_key` varchar(26) NOT NULL,
  `multi_valued` tinyint(1) NOT NULL,
  `definition` longtext NOT NULL,
  `created_ms` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `extension_schema_kind_name_key` (`kind`,`name_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `extension_record` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `schema_id` int(11) DEFAULT NULL,
  `name` varchar(26) NOT NULL,
  `name_key` varchar(26) NOT NULL,
  `service_id` bigint(20) NOT NULL,
  `owner_no` int(11) NOT NULL,
  `position` int(11) NOT NULL,
  `value` longtext NOT NULL,
  PRIMARY KEY (`id`),
  KEY `extension_record_schema_id` (`schema_id`),
  KEY `extension_record_service_id_owner_no_name_key_position` (`service_id`,`owner_no`,`name_key`,`position`),
  CONSTRAINT `extension_record_ibfk_1` FOREIGN KEY (`schema_id`) REFERENCES `extension_schema` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `extension_unique_key` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `record_id` int(11) NOT NULL,
  `schema_id` int(11) NOT NULL,
  `service_id` bigint(20) NOT NULL,
  `owner_no` int(11) NOT NULL,
  `constraint_no` int(11) NOT NULL,
  `digest` varchar(64) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `extension_unique_key_schema_id_service_id_owner_no_const_3873421` (`schema_id`,`service_id`,`owner_no`,`constraint_no`,`digest`),
  KEY `extension_unique_key_record_id` (`record_id`),
  KEY `extension_unique_key_schema_id` (`schema_id`),
  CONSTRAINT `extension_unique_key_ibfk_1` FOREIGN KEY (`record_id`) REFERENCES `extension_record` (`id`) ON DELETE CASCADE,
  CONSTRAINT `extension_unique_key_ibfk_2` FOREIGN KEY (`schema_id`) REFERENCES `extension_schema` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
