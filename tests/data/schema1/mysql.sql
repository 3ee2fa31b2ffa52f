/*M!999999\- enable the sandbox mode */ 

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
DROP TABLE IF EXISTS `change`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `change` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `counter` bigint(20) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=2 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `change` WRITE;
/*!40000 ALTER TABLE `change` DISABLE KEYS */;
INSERT INTO `change` VALUES
(1,18);
/*!40000 ALTER TABLE `change` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `event`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `event` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `at` double NOT NULL,
  `actor` varchar(64) NOT NULL,
  `kind` varchar(16) NOT NULL,
  `ref` int(11) NOT NULL,
  `old` varchar(16) DEFAULT NULL,
  `new` varchar(16) DEFAULT NULL,
  `detail` longtext DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `event_at` (`at`)
) ENGINE=InnoDB AUTO_INCREMENT=29 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `event` WRITE;
/*!40000 ALTER TABLE `event` DISABLE KEYS */;
INSERT INTO `event` VALUES
(1,1790000000,'scheduler','user',1,NULL,'created','admin,exec,lease,query'),
(2,1790000000,'config','sutclass',1,NULL,'enabled',NULL),
(3,1790000000,'config','sut',1,NULL,'unknown',NULL),
(4,1790000000,'config','sut',2,NULL,'unknown',NULL),
(5,1790000000,'admin','user',2,NULL,'created','exec,lease,query'),
(6,1790000000,'alice','plan',1,NULL,'queued','4 jobs'),
(7,1790000000,'alice','plan',2,NULL,'queued','4 jobs'),
(8,1790000000,'alice','lease',1,NULL,'queued',NULL),
(9,1790000000,'admin','lease',2,NULL,'queued',NULL),
(10,1790000000,'controller','sut',1,'unknown','healthy',NULL),
(11,1790000000,'controller','sut',2,'unknown','healthy',NULL),
(12,1790000010,'controller','job',1,'queued','assigned','demo-01'),
(13,1790000010,'controller','plan',1,'queued','running',NULL),
(14,1790000011,'controller','job',1,'assigned','running',NULL),
(15,1790000012,'controller','job',1,'running','completed',NULL),
(16,1790000011,'controller','job',2,'queued','assigned','demo-01'),
(17,1790000012,'controller','job',2,'assigned','running',NULL),
(18,1790000013,'controller','job',2,'running','completed',NULL),
(19,1790000012,'controller','job',3,'queued','assigned','demo-01'),
(20,1790000013,'controller','job',3,'assigned','running',NULL),
(21,1790000014,'controller','job',3,'running','completed',NULL),
(22,1790000013,'controller','job',4,'queued','assigned','demo-01'),
(23,1790000014,'controller','job',4,'assigned','running',NULL),
(24,1790000015,'controller','job',4,'running','completed',NULL),
(25,1790000015,'controller','plan',1,'running','completed',NULL),
(26,1790000030,'controller','lease',1,'queued','acquired','demo-01'),
(27,1790000040,'alice','lease',1,'acquired','released',NULL),
(28,1790000050,'controller','lease',2,'queued','acquired','demo-02');
/*!40000 ALTER TABLE `event` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `job`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `job` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `plan_id` int(11) NOT NULL,
  `sutclass_id` int(11) NOT NULL,
  `user_id` int(11) NOT NULL,
  `swprofile` int(11) NOT NULL,
  `session` int(11) NOT NULL,
  `state` varchar(16) NOT NULL,
  `priority` int(11) NOT NULL,
  `sut_id` int(11) DEFAULT NULL,
  `attempts` int(11) NOT NULL,
  `boot_failures` int(11) NOT NULL,
  `step` varchar(32) DEFAULT NULL,
  `progress` longtext DEFAULT NULL,
  `due_at` double DEFAULT NULL,
  `session_id` varchar(36) DEFAULT NULL,
  `last_error` longtext DEFAULT NULL,
  `publish` varchar(16) DEFAULT NULL,
  `results` int(11) NOT NULL,
  `errors` int(11) NOT NULL,
  `queued_at` double NOT NULL,
  `assigned_at` double DEFAULT NULL,
  `finished_at` double DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `job_plan_id` (`plan_id`),
  KEY `job_sutclass_id` (`sutclass_id`),
  KEY `job_user_id` (`user_id`),
  KEY `job_state` (`state`),
  KEY `job_sut_id` (`sut_id`),
  KEY `job_publish` (`publish`),
  KEY `job_sutclass_id_state` (`sutclass_id`,`state`),
  CONSTRAINT `job_ibfk_1` FOREIGN KEY (`plan_id`) REFERENCES `plan` (`id`),
  CONSTRAINT `job_ibfk_2` FOREIGN KEY (`sutclass_id`) REFERENCES `sut_class` (`id`),
  CONSTRAINT `job_ibfk_3` FOREIGN KEY (`user_id`) REFERENCES `user` (`id`),
  CONSTRAINT `job_ibfk_4` FOREIGN KEY (`sut_id`) REFERENCES `sut` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=9 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `job` WRITE;
/*!40000 ALTER TABLE `job` DISABLE KEYS */;
INSERT INTO `job` VALUES
(1,1,1,2,0,1,'completed',5,1,1,0,'done','{\"nonce\": \"4bc1631cddf0\"}',1790000012,NULL,NULL,'skipped',3,0,1790000000,1790000010,1790000012),
(2,1,1,2,1,1,'completed',5,1,1,0,'done','{\"nonce\": \"1778dbe8f719\"}',1790000013,NULL,NULL,'skipped',3,0,1790000000,1790000011,1790000013),
(3,1,1,2,0,2,'completed',5,1,1,0,'done','{\"nonce\": \"5acf997fc2b8\"}',1790000014,NULL,NULL,'skipped',3,0,1790000000,1790000012,1790000014),
(4,1,1,2,1,2,'completed',5,1,1,0,'done','{\"nonce\": \"e7f8503cf899\"}',1790000015,NULL,NULL,'skipped',3,0,1790000000,1790000013,1790000015),
(5,2,1,2,0,1,'queued',3,NULL,0,0,NULL,NULL,NULL,NULL,NULL,NULL,0,0,1790000000,NULL,NULL),
(6,2,1,2,1,1,'queued',3,NULL,0,0,NULL,NULL,NULL,NULL,NULL,NULL,0,0,1790000000,NULL,NULL),
(7,2,1,2,0,2,'queued',3,NULL,0,0,NULL,NULL,NULL,NULL,NULL,NULL,0,0,1790000000,NULL,NULL),
(8,2,1,2,1,2,'queued',3,NULL,0,0,NULL,NULL,NULL,NULL,NULL,NULL,0,0,1790000000,NULL,NULL);
/*!40000 ALTER TABLE `job` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `leader`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `leader` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(32) NOT NULL,
  `holder` varchar(128) DEFAULT NULL,
  `renewed_at` double DEFAULT NULL,
  `expires_at` double DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `leader_name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `leader` WRITE;
/*!40000 ALTER TABLE `leader` DISABLE KEYS */;
/*!40000 ALTER TABLE `leader` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `lease`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `lease` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `user_id` int(11) NOT NULL,
  `sutclass_id` int(11) NOT NULL,
  `sut_id` int(11) DEFAULT NULL,
  `state` varchar(16) NOT NULL,
  `priority` int(11) NOT NULL,
  `queued_at` double NOT NULL,
  `acquired_at` double DEFAULT NULL,
  `ended_at` double DEFAULT NULL,
  `request_key` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `lease_user_id_request_key` (`user_id`,`request_key`),
  KEY `lease_user_id` (`user_id`),
  KEY `lease_sutclass_id` (`sutclass_id`),
  KEY `lease_sut_id` (`sut_id`),
  KEY `lease_state` (`state`),
  KEY `lease_sutclass_id_state` (`sutclass_id`,`state`),
  CONSTRAINT `lease_ibfk_1` FOREIGN KEY (`user_id`) REFERENCES `user` (`id`),
  CONSTRAINT `lease_ibfk_2` FOREIGN KEY (`sutclass_id`) REFERENCES `sut_class` (`id`),
  CONSTRAINT `lease_ibfk_3` FOREIGN KEY (`sut_id`) REFERENCES `sut` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `lease` WRITE;
/*!40000 ALTER TABLE `lease` DISABLE KEYS */;
INSERT INTO `lease` VALUES
(1,2,1,1,'released',5,1790000000,1790000030,1790000040,NULL),
(2,1,1,2,'acquired',7,1790000000,1790000050,NULL,NULL);
/*!40000 ALTER TABLE `lease` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `plan`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `plan` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `user_id` int(11) NOT NULL,
  `sutclass_id` int(11) NOT NULL,
  `name` varchar(255) DEFAULT NULL,
  `state` varchar(16) NOT NULL,
  `priority` int(11) NOT NULL,
  `publish` tinyint(1) NOT NULL,
  `cancel_requested` tinyint(1) NOT NULL,
  `document` longtext NOT NULL,
  `total_jobs` int(11) NOT NULL,
  `queued_at` double NOT NULL,
  `started_at` double DEFAULT NULL,
  `completed_at` double DEFAULT NULL,
  `request_key` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `plan_user_id_request_key` (`user_id`,`request_key`),
  KEY `plan_user_id` (`user_id`),
  KEY `plan_sutclass_id` (`sutclass_id`),
  KEY `plan_state` (`state`),
  CONSTRAINT `plan_ibfk_1` FOREIGN KEY (`user_id`) REFERENCES `user` (`id`),
  CONSTRAINT `plan_ibfk_2` FOREIGN KEY (`sutclass_id`) REFERENCES `sut_class` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `plan` WRITE;
/*!40000 ALTER TABLE `plan` DISABLE KEYS */;
INSERT INTO `plan` VALUES
(1,2,1,NULL,'completed',5,1,0,'{\"benchmarks\": [{\"image\": \"localhost/fastpath-bench-busyloop:1\", \"name\": \"busyloop\", \"params\": {\"duration\": 0.2}, \"repeats\": 1, \"sessions\": 2, \"suite\": \"testing\", \"timeout\": 3600.0, \"type\": \"container\", \"warmups\": 0}], \"defaults\": {\"benchmark\": {\"repeats\": 1, \"sessions\": 2, \"timeout\": 3600.0, \"warmups\": 0}}, \"sut\": {\"name\": null, \"sutclass\": \"demo\"}, \"swprofiles\": [{\"bootscript\": null, \"cmdline\": [], \"initrd\": null, \"kernel\": null, \"kernel_git_sha\": null, \"modules\": null, \"name\": \"baseline\", \"sysctl\": []}, {\"bootscript\": null, \"cmdline\": [], \"initrd\": null, \"kernel\": null, \"kernel_git_sha\": null, \"modules\": null, \"name\": \"candidate\", \"sysctl\": []}]}',4,1790000000,1790000010,1790000015,NULL),
(2,2,1,NULL,'queued',3,1,0,'{\"benchmarks\": [{\"image\": \"localhost/fastpath-bench-busyloop:1\", \"name\": \"busyloop\", \"params\": {\"duration\": 0.2}, \"repeats\": 1, \"sessions\": 2, \"suite\": \"testing\", \"timeout\": 3600.0, \"type\": \"container\", \"warmups\": 0}], \"defaults\": {\"benchmark\": {\"repeats\": 1, \"sessions\": 2, \"timeout\": 3600.0, \"warmups\": 0}}, \"sut\": {\"name\": null, \"sutclass\": \"demo\"}, \"swprofiles\": [{\"bootscript\": null, \"cmdline\": [], \"initrd\": null, \"kernel\": null, \"kernel_git_sha\": null, \"modules\": null, \"name\": \"baseline\", \"sysctl\": []}, {\"bootscript\": null, \"cmdline\": [], \"initrd\": null, \"kernel\": null, \"kernel_git_sha\": null, \"modules\": null, \"name\": \"candidate\", \"sysctl\": []}]}',4,1790000000,NULL,NULL,NULL);
/*!40000 ALTER TABLE `plan` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `schema_version`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `schema_version` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `version` int(11) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=2 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `schema_version` WRITE;
/*!40000 ALTER TABLE `schema_version` DISABLE KEYS */;
INSERT INTO `schema_version` VALUES
(1,1);
/*!40000 ALTER TABLE `schema_version` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `sut`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `sut` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(128) NOT NULL,
  `sutclass_id` int(11) NOT NULL,
  `host` varchar(255) NOT NULL,
  `port` int(11) NOT NULL,
  `user` varchar(64) DEFAULT NULL,
  `keyfile` varchar(1024) DEFAULT NULL,
  `params` longtext NOT NULL,
  `health` varchar(16) NOT NULL,
  `reason` longtext DEFAULT NULL,
  `host_key` longtext DEFAULT NULL,
  `facts` longtext DEFAULT NULL,
  `last_ok_at` double DEFAULT NULL,
  `failures` int(11) NOT NULL,
  `next_check_at` double DEFAULT NULL,
  `created_at` double NOT NULL,
  `retired_at` double DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `sut_name` (`name`),
  KEY `sut_sutclass_id` (`sutclass_id`),
  KEY `sut_health` (`health`),
  CONSTRAINT `sut_ibfk_1` FOREIGN KEY (`sutclass_id`) REFERENCES `sut_class` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `sut` WRITE;
/*!40000 ALTER TABLE `sut` DISABLE KEYS */;
INSERT INTO `sut` VALUES
(1,'demo-01',1,'192.0.2.1',22,'fpuser','/tmp/tmp22ibgb7y/key','{\"base_cmdline\": null, \"boot\": \"none\", \"boot_timeout\": 600.0, \"container_runtime\": \"docker\", \"power_cycle\": null}','healthy',NULL,NULL,'{\"base_cmdline\": \"root=/dev/vda\"}',1790000000,0,NULL,1790000000,NULL),
(2,'demo-02',1,'192.0.2.2',22,'fpuser','/tmp/tmp22ibgb7y/key','{\"base_cmdline\": null, \"boot\": \"none\", \"boot_timeout\": 600.0, \"container_runtime\": \"docker\", \"power_cycle\": null}','healthy',NULL,NULL,'{\"base_cmdline\": \"root=/dev/vda\"}',1790000000,0,NULL,1790000000,NULL);
/*!40000 ALTER TABLE `sut` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `sut_class`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `sut_class` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(64) NOT NULL,
  `provider` varchar(32) NOT NULL,
  `enabled` tinyint(1) NOT NULL,
  `params` longtext NOT NULL,
  `created_at` double NOT NULL,
  `updated_at` double NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `sut_class_name` (`name`)
) ENGINE=InnoDB AUTO_INCREMENT=2 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `sut_class` WRITE;
/*!40000 ALTER TABLE `sut_class` DISABLE KEYS */;
INSERT INTO `sut_class` VALUES
(1,'demo','static',1,'{\"base_cmdline\": null, \"boot\": \"none\", \"boot_timeout\": 600.0, \"container_runtime\": \"docker\", \"power_cycle\": null}',1790000000,1790000000);
/*!40000 ALTER TABLE `sut_class` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `usage`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `usage` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `sut_id` int(11) NOT NULL,
  `sutclass_id` int(11) NOT NULL,
  `user_id` int(11) NOT NULL,
  `kind` varchar(8) NOT NULL,
  `ref` int(11) NOT NULL,
  `started_at` double NOT NULL,
  `ended_at` double DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `usage_sut_id` (`sut_id`),
  KEY `usage_sutclass_id` (`sutclass_id`),
  KEY `usage_user_id` (`user_id`),
  KEY `usage_started_at` (`started_at`),
  KEY `usage_ended_at` (`ended_at`),
  CONSTRAINT `usage_ibfk_1` FOREIGN KEY (`sut_id`) REFERENCES `sut` (`id`),
  CONSTRAINT `usage_ibfk_2` FOREIGN KEY (`sutclass_id`) REFERENCES `sut_class` (`id`),
  CONSTRAINT `usage_ibfk_3` FOREIGN KEY (`user_id`) REFERENCES `user` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `usage` WRITE;
/*!40000 ALTER TABLE `usage` DISABLE KEYS */;
INSERT INTO `usage` VALUES
(1,1,1,2,'job',1,1790000010,1790000012),
(2,1,1,2,'job',2,1790000011,1790000013),
(3,1,1,2,'job',3,1790000012,1790000014),
(4,1,1,2,'job',4,1790000013,1790000015),
(5,1,1,2,'lease',1,1790000030,1790000040),
(6,2,1,1,'lease',2,1790000050,NULL);
/*!40000 ALTER TABLE `usage` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `user`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `user` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(64) NOT NULL,
  `capabilities` varchar(64) NOT NULL,
  `token_hash` varchar(64) NOT NULL,
  `created_at` double NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `user_name` (`name`),
  UNIQUE KEY `user_token_hash` (`token_hash`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `user` WRITE;
/*!40000 ALTER TABLE `user` DISABLE KEYS */;
INSERT INTO `user` VALUES
(1,'admin','admin,exec,lease,query','15dd61e8c58421d188a2b9b45e2e0d6db1e15a32bce890d133ecf4cef8c38d21',1790000000),
(2,'alice','exec,lease,query','ad2aaec2017fdcab70b7f7354ad27184d74fb0b75e24b83a9ad944b4ff15931a',1790000000);
/*!40000 ALTER TABLE `user` ENABLE KEYS */;
UNLOCK TABLES;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

